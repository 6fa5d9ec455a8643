"""Ledger: double-entry accounts and transfers; every money movement of record goes here."""

from engines.ledger import chart
from engines.ledger.books import Books, OrderPosting
from engines.ledger.model import (
    Account,
    AccountFlags,
    AccountType,
    Balances,
    LedgerError,
    Mismatch,
    Transfer,
    TransferKind,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
    TransferStatus,
    UnknownAccountError,
)
from engines.ledger.service import AccountConflictError, LedgerReport, LedgerService

__all__ = [
    "Account",
    "AccountConflictError",
    "AccountFlags",
    "AccountType",
    "Balances",
    "Books",
    "LedgerError",
    "LedgerReport",
    "LedgerService",
    "Mismatch",
    "OrderPosting",
    "Transfer",
    "TransferKind",
    "TransferRefusedError",
    "TransferRequest",
    "TransferResult",
    "TransferStatus",
    "UnknownAccountError",
    "chart",
]
