"""Double-entry bookkeeping rules: accounts, transfers and the balance checks, pure and sync.

Modelled on TigerBeetle: a transfer debits one account and credits another by the same amount
in the same currency; pending transfers reserve an amount until they are posted or voided;
account flags forbid debits beyond credits (or the reverse), optionally up to a stated limit.
These functions are the specification; the PostgreSQL function in migration 0006 mirrors them
for speed, and the tests run the same behaviour against both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import IntFlag, StrEnum

from core.money import Money


class AccountType(StrEnum):
    """Which side an account's balance normally sits on (assets and expenses are debit-normal)."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class AccountFlags(IntFlag):
    NONE = 0
    #: debits_pending + debits_posted <= credits_posted + balance_limit
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    #: credits_pending + credits_posted <= debits_posted + balance_limit
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2


class TransferKind(StrEnum):
    POSTED = "posted"  # single phase: moves the money at once
    PENDING = "pending"  # reserves the money on both accounts
    POST_PENDING = "post"  # posts (all or part of) a pending transfer
    VOID_PENDING = "void"  # releases a pending transfer


class TransferStatus(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"


class TransferResult(StrEnum):
    """Why a transfer was refused (TigerBeetle's result names, where it has one)."""

    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    ACCOUNT_NOT_FOUND = "account_not_found"
    CURRENCY_MISMATCH = "currency_mismatch"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"


class LedgerError(Exception):
    """Base of the ledger's domain errors."""


class TransferRefusedError(LedgerError):
    """The ledger refused a transfer; nothing moved. `result` says why."""

    def __init__(self, transfer_id: uuid.UUID, result: TransferResult) -> None:
        super().__init__(f"transfer {transfer_id}: {result.value}")
        self.transfer_id = transfer_id
        self.result = result


class UnknownAccountError(LedgerError):
    pass


@dataclass(frozen=True, slots=True)
class Balances:
    """The four running sums of an account, in its currency (never negative)."""

    debits_pending: Decimal = Decimal(0)
    debits_posted: Decimal = Decimal(0)
    credits_pending: Decimal = Decimal(0)
    credits_posted: Decimal = Decimal(0)

    def add(
        self,
        *,
        debits_pending: Decimal = Decimal(0),
        debits_posted: Decimal = Decimal(0),
        credits_pending: Decimal = Decimal(0),
        credits_posted: Decimal = Decimal(0),
    ) -> Balances:
        return Balances(
            self.debits_pending + debits_pending,
            self.debits_posted + debits_posted,
            self.credits_pending + credits_pending,
            self.credits_posted + credits_posted,
        )


@dataclass(frozen=True, slots=True)
class Account:
    id: uuid.UUID
    code: str  # unique and readable: "retailer:+2348030000001:credit"
    type: AccountType
    currency: str
    flags: AccountFlags = AccountFlags.NONE
    balance_limit: Decimal = Decimal(0)
    balances: Balances = Balances()

    @property
    def balance(self) -> Money:
        """The posted balance on the account's normal side (what is owed, held or earned)."""
        b = self.balances
        net = b.debits_posted - b.credits_posted
        return Money(net if self.type.debit_normal else -net, self.currency)

    @property
    def available(self) -> Money:
        """The posted balance with what pending transfers will add to it (a held invoice, a
        reserved credit): what the account holds once they post, before any pending decrease."""
        b = self.balances
        if self.type.debit_normal:
            net = b.debits_posted + b.debits_pending - b.credits_posted
        else:
            net = b.credits_posted + b.credits_pending - b.debits_posted
        return Money(net, self.currency)

    def with_balances(self, balances: Balances) -> Account:
        return replace(self, balances=balances)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a caller asks for. The id is the caller's idempotency key (derive it, e.g. uuid5).

    For POSTED and PENDING name both accounts and the amount. For POST_PENDING name the
    pending transfer and optionally a smaller amount; for VOID_PENDING only the pending one.
    """

    id: uuid.UUID
    kind: TransferKind
    amount: Money | None = None
    debit_account_id: uuid.UUID | None = None
    credit_account_id: uuid.UUID | None = None
    pending_id: uuid.UUID | None = None
    code: str = ""  # what the money is for: "order_payment", "payout", …
    reference: str = ""  # the outside reference: an order, a provider receipt

    @classmethod
    def posted(
        cls,
        id: uuid.UUID,
        debit: uuid.UUID,
        credit: uuid.UUID,
        amount: Money,
        *,
        code: str = "",
        reference: str = "",
    ) -> TransferRequest:
        return cls(id, TransferKind.POSTED, amount, debit, credit, None, code, reference)

    @classmethod
    def pending(
        cls,
        id: uuid.UUID,
        debit: uuid.UUID,
        credit: uuid.UUID,
        amount: Money,
        *,
        code: str = "",
        reference: str = "",
    ) -> TransferRequest:
        return cls(id, TransferKind.PENDING, amount, debit, credit, None, code, reference)

    @classmethod
    def post(
        cls,
        id: uuid.UUID,
        pending_id: uuid.UUID,
        amount: Money | None = None,
        *,
        code: str = "",
        reference: str = "",
    ) -> TransferRequest:
        return cls(id, TransferKind.POST_PENDING, amount, None, None, pending_id, code, reference)

    @classmethod
    def void(
        cls,
        id: uuid.UUID,
        pending_id: uuid.UUID,
        *,
        code: str = "",
        reference: str = "",
    ) -> TransferRequest:
        return cls(id, TransferKind.VOID_PENDING, None, None, None, pending_id, code, reference)


@dataclass(frozen=True, slots=True)
class Transfer:
    """A recorded transfer. Immutable except a pending one's status (pending→posted/voided)."""

    id: uuid.UUID
    kind: TransferKind
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: Money
    pending_id: uuid.UUID | None
    status: TransferStatus
    code: str
    reference: str
    created_at: datetime

    def same_request(self, request: TransferRequest) -> bool:
        """Whether `request` is the one that created this transfer (a retry, not a clash)."""
        if request.kind is not self.kind or request.code != self.code:
            return False
        if request.reference != self.reference or request.pending_id != self.pending_id:
            return False
        if self.kind in (TransferKind.POSTED, TransferKind.PENDING):
            return (
                request.debit_account_id == self.debit_account_id
                and request.credit_account_id == self.credit_account_id
                and request.amount == self.amount
            )
        # A post that named no amount posted the whole reservation: either form is a retry.
        return request.amount is None or request.amount == self.amount


def validate_shape(request: TransferRequest) -> TransferResult:
    """The checks that need no database: positive amounts, two different accounts."""
    if request.kind in (TransferKind.POSTED, TransferKind.PENDING):
        if request.amount is None or request.amount.amount <= 0:
            return TransferResult.AMOUNT_MUST_BE_POSITIVE
        if request.debit_account_id is None or request.credit_account_id is None:
            return TransferResult.ACCOUNT_NOT_FOUND
        if request.debit_account_id == request.credit_account_id:
            return TransferResult.ACCOUNTS_MUST_BE_DIFFERENT
        return TransferResult.OK
    if request.pending_id is None:
        return TransferResult.PENDING_TRANSFER_NOT_FOUND
    if request.kind is TransferKind.VOID_PENDING and request.amount is not None:
        return TransferResult.EXISTS_WITH_DIFFERENT_FIELDS
    if request.amount is not None and request.amount.amount <= 0:
        return TransferResult.AMOUNT_MUST_BE_POSITIVE
    return TransferResult.OK


def check_limits(account: Account, balances: Balances) -> TransferResult:
    """Whether `balances` (after a change) respect `account`'s flags and limit."""
    b, limit = balances, account.balance_limit
    if (
        account.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        and b.debits_pending + b.debits_posted > b.credits_posted + limit
    ):
        return TransferResult.EXCEEDS_CREDITS
    if (
        account.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
        and b.credits_pending + b.credits_posted > b.debits_posted + limit
    ):
        return TransferResult.EXCEEDS_DEBITS
    return TransferResult.OK


@dataclass(frozen=True, slots=True)
class Effect:
    """How one transfer changes the two accounts' running sums."""

    debit: Balances
    credit: Balances


def effect_of(kind: TransferKind, amount: Decimal, pending_amount: Decimal) -> Effect:
    """The deltas a transfer applies; `pending_amount` is the reserved amount for post/void."""
    if kind is TransferKind.POSTED:
        return Effect(Balances(debits_posted=amount), Balances(credits_posted=amount))
    if kind is TransferKind.PENDING:
        return Effect(Balances(debits_pending=amount), Balances(credits_pending=amount))
    if kind is TransferKind.POST_PENDING:
        return Effect(
            Balances(debits_pending=-pending_amount, debits_posted=amount),
            Balances(credits_pending=-pending_amount, credits_posted=amount),
        )
    return Effect(
        Balances(debits_pending=-pending_amount), Balances(credits_pending=-pending_amount)
    )


def _plus(a: Balances, d: Balances) -> Balances:
    return a.add(
        debits_pending=d.debits_pending,
        debits_posted=d.debits_posted,
        credits_pending=d.credits_pending,
        credits_posted=d.credits_posted,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    result: TransferResult
    debit: Account | None = None
    credit: Account | None = None
    amount: Money | None = None


def _amount_of(
    request: TransferRequest, debit: Account, credit: Account, pending: Transfer | None
) -> tuple[Money, Decimal] | TransferResult:
    """The amount to move and the amount a post/void releases, or why there is none."""
    if request.kind in (TransferKind.POSTED, TransferKind.PENDING):
        assert request.amount is not None
        if not debit.currency == credit.currency == request.amount.currency:
            return TransferResult.CURRENCY_MISMATCH
        return request.amount, Decimal(0)
    if pending is None or pending.kind is not TransferKind.PENDING:
        return TransferResult.PENDING_TRANSFER_NOT_FOUND
    if pending.status is TransferStatus.POSTED:
        return TransferResult.PENDING_TRANSFER_ALREADY_POSTED
    if pending.status is TransferStatus.VOIDED:
        return TransferResult.PENDING_TRANSFER_ALREADY_VOIDED
    if request.kind is TransferKind.VOID_PENDING:
        return pending.amount, pending.amount.amount
    amount = request.amount or pending.amount
    if amount.currency != pending.amount.currency:
        return TransferResult.CURRENCY_MISMATCH
    if amount.amount > pending.amount.amount:
        return TransferResult.EXCEEDS_PENDING_TRANSFER_AMOUNT
    return amount, pending.amount.amount


def decide(
    request: TransferRequest,
    debit: Account | None,
    credit: Account | None,
    pending: Transfer | None = None,
) -> Decision:
    """Apply a new transfer to the two (locked) accounts: the new accounts, or why not.

    For post/void, `debit`/`credit` are the pending transfer's accounts and `pending` is it.
    """
    shape = validate_shape(request)
    if shape is not TransferResult.OK:
        return Decision(shape)
    if request.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING) and (
        pending is None or pending.kind is not TransferKind.PENDING
    ):
        return Decision(TransferResult.PENDING_TRANSFER_NOT_FOUND)
    if debit is None or credit is None:
        return Decision(TransferResult.ACCOUNT_NOT_FOUND)
    resolved = _amount_of(request, debit, credit, pending)
    if isinstance(resolved, TransferResult):
        return Decision(resolved)
    amount, pending_amount = resolved
    effect = effect_of(request.kind, amount.amount, pending_amount)
    new_debit = debit.with_balances(_plus(debit.balances, effect.debit))
    new_credit = credit.with_balances(_plus(credit.balances, effect.credit))
    # Posting or voiding never grows a side (the reservation was checked when it was made),
    # so a limit lowered since then cannot strand the money half-way: only growth is checked.
    if request.kind in (TransferKind.POSTED, TransferKind.PENDING):
        for account in (new_debit, new_credit):
            verdict = check_limits(account, account.balances)
            if verdict is not TransferResult.OK:
                return Decision(verdict)
    return Decision(TransferResult.OK, new_debit, new_credit, amount)


def replay(transfers: Iterable[Transfer]) -> dict[uuid.UUID, Balances]:
    """The running sums every account should hold, recomputed from its transfers alone."""
    sums: dict[uuid.UUID, Balances] = {}
    pendings: dict[uuid.UUID, Transfer] = {}
    records = list(transfers)
    for t in records:
        if t.kind is TransferKind.PENDING:
            pendings[t.id] = t
    for t in records:
        pending_amount = Decimal(0)
        if t.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING):
            assert t.pending_id is not None
            pending_amount = pendings[t.pending_id].amount.amount
        effect = effect_of(t.kind, t.amount.amount, pending_amount)
        sums[t.debit_account_id] = _plus(sums.get(t.debit_account_id, Balances()), effect.debit)
        sums[t.credit_account_id] = _plus(sums.get(t.credit_account_id, Balances()), effect.credit)
    return sums


@dataclass(frozen=True, slots=True)
class Mismatch:
    """An account whose stored running sums differ from its transfers (or break its limit)."""

    account_id: uuid.UUID
    code: str
    stored: Balances
    replayed: Balances
    problem: str


def check(accounts: Iterable[Account], transfers: Iterable[Transfer]) -> list[Mismatch]:
    """The accounts whose stored running sums differ from a replay of their transfers."""
    replayed = replay(transfers)
    found: list[Mismatch] = []
    for account in accounts:
        expected = replayed.get(account.id, Balances())
        if account.balances != expected:
            found.append(Mismatch(account.id, account.code, account.balances, expected, "sums"))
    return found


def over_limit(accounts: Iterable[Account]) -> list[Account]:
    """Accounts past their flags' limit. Transfers never take one there; lowering a limit
    below what is already used does (a credit line cut after a late payment) — not corruption,
    but worth an operator's look."""
    return [a for a in accounts if check_limits(a, a.balances) is not TransferResult.OK]


def totals(accounts: Iterable[Account]) -> dict[str, tuple[Decimal, Decimal]]:
    """Per currency, (all debits, all credits), posted and pending: equal in a sound ledger."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for a in accounts:
        d, c = out.get(a.currency, (Decimal(0), Decimal(0)))
        b = a.balances
        out[a.currency] = (
            d + b.debits_posted + b.debits_pending,
            c + b.credits_posted + b.credits_pending,
        )
    return out
