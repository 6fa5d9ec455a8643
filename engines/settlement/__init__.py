"""Settlement: daily batches per distributor, reconciliation with providers, payouts."""

from engines.settlement.model import (
    Batch,
    CashDay,
    CatchUpTooLongError,
    Collected,
    DayNotOverError,
    Distributor,
    FirstDayTooFarBackError,
    Match,
    Reconciliation,
    ReconciliationLine,
    SettlementBusyError,
    SettlementError,
    StatementFormatError,
    StatementRow,
    batch_for,
    parse_statement,
    reconcile,
    still_held,
)
from engines.settlement.payout_orders import (
    PayoutOrder,
    PayoutOrders,
    PayoutOrderStatus,
    backoff,
)
from engines.settlement.payouts import PayoutService
from engines.settlement.service import CATCH_UP_DAYS, SettlementService, day_bounds

__all__ = [
    "CATCH_UP_DAYS",
    "Batch",
    "CashDay",
    "CatchUpTooLongError",
    "Collected",
    "DayNotOverError",
    "Distributor",
    "FirstDayTooFarBackError",
    "Match",
    "PayoutOrder",
    "PayoutOrderStatus",
    "PayoutOrders",
    "PayoutService",
    "Reconciliation",
    "ReconciliationLine",
    "SettlementBusyError",
    "SettlementError",
    "SettlementService",
    "StatementFormatError",
    "StatementRow",
    "backoff",
    "batch_for",
    "day_bounds",
    "parse_statement",
    "reconcile",
    "still_held",
]
