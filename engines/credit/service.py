"""Retailer credit use cases: decide the limit, authorise a credit order, take repayments,
and the daily run (reminders, late fees, overdue blocks). The money is on the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.phone import Phone
from core.region import region_for_phone
from engines.credit.model import (
    GRACE_DAYS,
    CreditDecision,
    CreditHistory,
    CreditOrder,
    CreditRefusedError,
    CreditRefusedReason,
    CreditStatus,
    DeliveredOrder,
    ReminderKind,
    apply_repayment,
    charge_late_fee,
    decide_limit,
    falls_due,
    is_overdue,
    late_fee_due,
    late_fee_owed,
    reduced_to,
    reminder_due,
    repayment_order,
    returned,
)
from engines.credit.tables import credit_accounts, credit_orders, credit_repayments
from engines.customers.tables import customers
from engines.ledger import (
    Books,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
    chart,
)
from engines.notifications import NotificationService
from engines.orders.tables import orders

# the repayments her account credit made, as a rail's name in the repayments' record
ACCOUNT_CREDIT = "account_credit"


@dataclass(frozen=True, slots=True)
class Repayment:
    """What a repayment paid off, and what was left over (kept as credit on her account)."""

    credits: list[CreditOrder]
    unapplied: Money
    duplicate: bool = False


@dataclass(slots=True)
class DailyRun:
    reminders: list[tuple[str, ReminderKind]] = field(default_factory=list)
    late_fees: list[tuple[str, Money]] = field(default_factory=list)
    fee_notices: list[str] = field(default_factory=list)  # fees owed but never texted, told
    later: list[str] = field(default_factory=list)  # before the reminder hour where they are


class CreditService:
    def __init__(
        self,
        db: Database,
        books: Books,
        notifications: NotificationService,
        translate: Translator,
        clock: Clock,
        *,
        sms_provider: str = "africastalking",
        refunds_in_flight: Callable[[Phone, str], Awaitable[Money]] | None = None,
        reminder_hour: int = 8,
        whatsapp: frozenset[str] = frozenset(),
    ) -> None:
        self._db = db
        # the WhatsApp providers set up to send a notice: a repayment's receipt goes as the
        # notices of the order it paid do
        self._whatsapp = whatsapp
        # what the credit pass texts waits for this local hour: so does what her credit paid
        self._reminder_hour = time(reminder_hour)
        # money her account shows that a rail is still giving back: not hers to spend
        self._refunds_in_flight = refunds_in_flight
        self._books = books
        self._notifications = notifications
        self._t = translate
        self._clock = clock
        self._sms_provider = sms_provider

    def _morning(self, customer: Phone) -> datetime | None:
        """When a text about her debt may go: now by day; before the reminder hour where she
        is, at that hour (None: now)."""
        local = self._clock.now().astimezone(ZoneInfo(region_for_phone(customer).timezone))
        if local.time() >= self._reminder_hour:
            return None
        return datetime.combine(local.date(), self._reminder_hour, tzinfo=local.tzinfo)

    def _today(self, customer: Phone) -> date:
        return self._clock.now().astimezone(ZoneInfo(region_for_phone(customer).timezone)).date()

    # ---------------------------------------------------------------- the limit

    async def history(self, customer: Phone) -> CreditHistory:
        tz = ZoneInfo(region_for_phone(customer).timezone)
        async with self._db.transaction() as s:
            delivered = await s.execute(
                select(
                    orders.c.created_at, orders.c.updated_at, orders.c.total, orders.c.currency
                ).where(and_(orders.c.customer == customer.e164, orders.c.status == "delivered"))
            )
            # dated by the day the goods arrived (a delivered order's last change), as its
            # credit's due date is; an order from before changes were dated, by its order day
            history = [
                DeliveredOrder(
                    (r.updated_at or r.created_at).astimezone(tz).date(),
                    Money(r.total, r.currency),
                )
                for r in delivered
            ]
            credits = await self._credits(s, customer)
        today = self._today(customer)
        # late = repaid after the due date (its term after delivery), counted from the day it
        # was repaid: a repayment months late still counts for LATE_LOOKBACK_DAYS after it
        late = [c.repaid_on for c in credits if c.repaid_on is not None and c.repaid_late]
        overdue = any(is_overdue(c, today) for c in credits)
        return CreditHistory(history, late, overdue)

    async def decide(self, customer: Phone) -> CreditDecision:
        """Re-decide the customer's limit from their history, and set it on the credit line.

        Asked by `terms` (once a local day, at the checkout that needs it) and after a
        repayment, which may lift an overdue block or count as late."""
        currency = region_for_phone(customer).currency
        decision = decide_limit(await self.history(customer), currency, self._today(customer))
        line = await self._books.account(chart.credit_line(customer, currency))
        await self._books.ledger.set_limit(line.code, decision.limit.amount)
        values = {
            "currency": currency,
            "credit_limit": decision.limit.amount,
            "term_days": decision.term_days,
            "reason": decision.reason[:200],
            "decided_at": self._clock.now(),
        }
        async with self._db.transaction() as s:
            changed = await s.execute(
                update(credit_accounts)
                .where(credit_accounts.c.customer == customer.e164)
                .values(**values)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                await s.execute(credit_accounts.insert().values(customer=customer.e164, **values))
        return decision

    async def terms(self, customer: Phone) -> CreditDecision | None:
        """The customer's limit and term, re-decided when the last decision is not from their
        local today: orders are delivered, history ages, credits fall due."""
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(credit_accounts).where(credit_accounts.c.customer == customer.e164)
                )
            ).first()
        tz = ZoneInfo(region_for_phone(customer).timezone)
        if row is None or row.decided_at.astimezone(tz).date() < self._today(customer):
            try:
                return await self.decide(customer)
            except IntegrityError:  # a concurrent checkout decided it first: the same answer
                return await self.terms(customer)
        return CreditDecision(Money(row.credit_limit, row.currency), row.term_days, row.reason)

    async def available(self, customer: Phone) -> Money:
        """What is left of the limit: the limit less what is owed and held on the line."""
        currency = region_for_phone(customer).currency
        await self.terms(customer)  # the limit on the line is today's
        line = await self._books.account(chart.credit_line(customer, currency))
        b = line.balances
        used = b.debits_pending + b.debits_posted - b.credits_posted
        return Money(max(line.balance_limit - used, Decimal(0)), currency)

    # ---------------------------------------------------------------- orders on credit

    async def authorise(self, order_reference: str, customer: Phone, total: Money) -> CreditOrder:
        """Hold `total` on the customer's credit line for this order, with its term (the due
        date is set when the goods are delivered: `delivered`).

        Idempotent per order reference. Refused (CreditRefusedError, nothing held) when the
        customer has no credit, something overdue, or too little left of the limit.
        """
        async with self._db.transaction() as s:
            existing = await self._credit(s, order_reference)
            credits = await self._credits(s, customer)
        if existing is not None:
            return existing
        today = self._today(customer)
        if any(is_overdue(c, today) for c in credits):
            raise CreditRefusedError(CreditRefusedReason.OVERDUE, await self.available(customer))
        terms = await self.terms(customer)
        if terms is None or terms.limit.amount <= 0 or terms.term_days <= 0:
            raise CreditRefusedError(CreditRefusedReason.NO_CREDIT, Money.zero(total.currency))
        try:
            await self._books.order_placed(order_reference, customer, total, on_credit=True)
        except TransferRefusedError as refused:
            if refused.result is TransferResult.EXCEEDS_CREDITS:
                raise CreditRefusedError(
                    CreditRefusedReason.INSUFFICIENT, await self.available(customer)
                ) from refused
            raise
        credit = CreditOrder(
            order_reference, total, total, None, CreditStatus.OPEN, term_days=terms.term_days
        )
        try:
            async with self._db.transaction() as s:
                await s.execute(
                    credit_orders.insert().values(
                        order_reference=order_reference,
                        customer=customer.e164,
                        currency=total.currency,
                        amount=total.amount,
                        outstanding=total.amount,
                        due_on=None,
                        term_days=credit.term_days,
                        status=credit.status.value,
                        late_fee_charged=False,
                        late_fee_owed=Decimal(0),
                        reminded_due_soon=False,
                        reminded_overdue=False,
                        repaid_on=None,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            async with self._db.transaction() as s:
                twin = await self._credit(s, order_reference)
            if twin is None:
                raise
            return twin
        # a debt while she holds credit on her account: it pays what it can at once
        await self.spend_account_credit(customer, total.currency)
        return credit

    async def cancel(self, order_reference: str) -> None:
        """The order was cancelled: release the hold (if one was taken); nothing is owed."""
        try:
            await self._books.order_cancelled(order_reference)
        except TransferRefusedError as refused:
            if refused.result is not TransferResult.PENDING_TRANSFER_NOT_FOUND:
                raise
        async with self._db.transaction() as s:
            await s.execute(
                update(credit_orders)
                .where(credit_orders.c.order_reference == order_reference)
                .values(status=CreditStatus.CANCELLED.value, outstanding=Decimal(0))
            )

    async def delivered(self, order_reference: str, at: datetime) -> CreditOrder | None:
        """The goods arrived at `at`: the credit falls due its term after that day (the
        region's), once. None for an order not bought on credit."""
        async with self._db.transaction() as s:
            credit = await self._credit(s, order_reference, lock=True)
            if credit is None or credit.due_on is not None:
                return credit
            customer = await s.scalar(
                select(credit_orders.c.customer).where(
                    credit_orders.c.order_reference == order_reference
                )
            )
            tz = ZoneInfo(region_for_phone(Phone(str(customer))).timezone)
            due = falls_due(credit, at.astimezone(tz).date())
            # conditional: a concurrent twin (SQLite locks nothing on read) sets it once
            await s.execute(
                update(credit_orders)
                .where(
                    credit_orders.c.order_reference == order_reference,
                    credit_orders.c.due_on.is_(None),
                )
                .values(due_on=due.due_on)
            )
            return await self._credit(s, order_reference)

    async def returned(
        self, order_reference: str, tax: Money, *, quiet: bool = False
    ) -> CreditOrder | None:
        """A delivered credit order's goods all came back: what they cost is released from the
        credit (see `model.returned`), once, with the sale reversed on the ledger (the credit
        line, sales, and its `tax`), and the retailer is told by SMS what she now owes. None
        for an order not bought on credit. `quiet`: the caller tells her (the return's credit
        note); the SMS is recorded, not sent, as it still marks the release done."""
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(credit_orders.c.customer, credit_orders.c.currency).where(
                        credit_orders.c.order_reference == order_reference
                    )
                )
            ).first()
        if row is None:
            return None
        customer, currency = Phone(row.customer), str(row.currency)
        # opened first: opening one is a transaction of its own (SQLite has one writer)
        line = await self._books.account(chart.credit_line(customer, currency))
        sales = await self._books.account(chart.sales(currency))
        vat = await self._books.account(chart.vat_payable(currency))
        async with self._db.transaction() as s:
            credit = await self._credit(s, order_reference, lock=True)
            if credit is None or credit.status is CreditStatus.CANCELLED:
                return credit
            released = returned(credit)
            others = [
                c for c in await self._credits(s, customer) if c.order_reference != order_reference
            ]
            owed = sum(
                (c.outstanding for c in [*others, released] if c.status is CreditStatus.OPEN),
                Money.zero(currency),
            )
            locale, opted_out = await self._recipient(s, customer)
            told = await self._notifications.queue_in(
                s,
                self._sms(
                    customer,
                    locale,
                    "credit.returned",
                    f"credit-returned:{order_reference}",  # once: it marks the release too
                    reference=order_reference,
                    amount=credit.amount.format(),
                    owed=owed.format(),
                ),
                suppressed=opted_out or quiet,
            )
            if not told:
                return credit  # released already (a redelivered event)
            await s.execute(
                update(credit_orders)
                .where(credit_orders.c.order_reference == order_reference)
                .values(amount=released.amount.amount)
            )
            await self._save(s, released)
            reversal = [(sales, line, credit.amount, "order", "returned")]
            if tax.amount > 0:
                reversal.append((vat, sales, tax, "vat", "returned-vat"))
            for debit, to, amount, code, what in reversal:
                if amount.amount > 0:
                    await self._books.ledger.transfer_in(
                        s,
                        TransferRequest.posted(
                            chart.transfer_id("order", order_reference, what),
                            debit.id,
                            to.id,
                            amount,
                            code=code,
                            reference=order_reference,
                        ),
                    )
            return released

    async def credit(self, order_reference: str) -> CreditOrder | None:
        """The order's credit, if it was bought on credit."""
        async with self._db.transaction() as s:
            return await self._credit(s, order_reference)

    async def delivered_in_part(self, order_reference: str, total: Money) -> CreditOrder | None:
        """Only part of a credit order arrived: only `total` is owed (the ledger posts only that
        much of the hold). Idempotent; None for an order not bought on credit."""
        async with self._db.transaction() as s:
            credit = await self._credit(s, order_reference, lock=True)
            if credit is None:
                return None
            row = await s.execute(
                select(credit_orders.c.customer).where(
                    credit_orders.c.order_reference == order_reference
                )
            )
            reduced = reduced_to(credit, total, self._today(Phone(row.scalar_one())))
            if reduced != credit:
                await s.execute(
                    update(credit_orders)
                    .where(credit_orders.c.order_reference == order_reference)
                    .values(amount=reduced.amount.amount)
                )
                await self._save(s, reduced)
        return reduced

    async def repay(
        self, customer: Phone, amount: Money, rail: str, external_ref: str, *, tell: bool = False
    ) -> Repayment:
        """A repayment by any rail: on the ledger and applied to the oldest credits, atomically.

        Idempotent by (rail, external_ref), like every payment. `tell`: money that named no
        order (a transfer into her account) is receipted here, in the same transaction, by one
        SMS saying what it paid and what she still owes or keeps as credit.
        """
        held = await self._books.account(chart.rail(rail, amount.currency))
        line = await self._books.account(chart.credit_line(customer, amount.currency))
        # late fees are owed on the receivable (the capped line cannot take them while overdue)
        receivable = await self._books.account(chart.receivable(customer, amount.currency))
        transfer_id = chart.transfer_id("payment", rail, external_ref)
        today = self._today(customer)

        async def work(s: AsyncSession) -> Repayment:
            seen = await s.scalar(
                select(credit_repayments.c.transfer_id).where(
                    credit_repayments.c.transfer_id == transfer_id
                )
            )
            if seen is not None:
                return Repayment(
                    await self._credits(s, customer), Money.zero(amount.currency), True
                )
            await s.execute(
                credit_repayments.insert().values(
                    transfer_id=transfer_id,
                    customer=customer.e164,
                    currency=amount.currency,
                    amount=amount.amount,
                    rail=rail,
                    external_ref=external_ref,
                    created_at=self._clock.now(),
                )
            )
            credits = await self._credits(s, customer, lock=True)
            updated, left = apply_repayment(credits, amount, today)
            fees = Money.zero(amount.currency)
            for before, after in zip(credits, sorted(updated, key=repayment_order), strict=True):
                if after != before:
                    fees = fees + late_fee_owed(before) - late_fee_owed(after)
                    await self._save(s, after)
            # one payment on the rail: the principal to the credit line, the late fees to the
            # receivable they were charged on, and what it paid beyond everything owed to the
            # receivable too, as her credit (BAL shows it, a checkout spends it; on the line it
            # would only have raised her credit past its limit); the first under the payment's id
            parts = [(line, amount - fees - left), (receivable, fees), (receivable, left)]
            ids = iter(
                (
                    transfer_id,
                    chart.transfer_id("payment", rail, external_ref, "fee"),
                    chart.transfer_id("payment", rail, external_ref, "rest"),
                )
            )
            for account, part in parts:
                if part.amount > 0:
                    await self._books.ledger.transfer_in(
                        s,
                        TransferRequest.posted(
                            next(ids),
                            held.id,
                            account.id,
                            part,
                            code="repayment",
                            reference=external_ref,
                        ),
                    )
            if tell:
                first = next((c for c in credits if c.status is CreditStatus.OPEN), None)
                await self._tell_repaid(
                    s,
                    customer,
                    amount=amount,
                    left=left,
                    credits=updated,
                    transfer_id=transfer_id,
                    about=None if first is None else first.order_reference,
                )
            return Repayment(updated, left)

        try:
            repayment = await self._db.retrying(work)
        except IntegrityError:
            return await self._db.retrying(work)  # a twin delivery won: answer as a duplicate
        if not repayment.duplicate:
            # paid up, an overdue block lifts (and a late repayment counts) at once
            await self.decide(customer)
        return repayment

    async def _tell_repaid(
        self,
        s: AsyncSession,
        customer: Phone,
        *,
        amount: Money,
        left: Money,
        credits: Sequence[CreditOrder],
        transfer_id: uuid.UUID,
        about: str | None,
    ) -> None:
        """The receipt of money that repaid her credit: what it paid, and what she still owes
        or what of it is kept as credit on her account. `about`: the order whose credit it paid
        first (its channel is the receipt's)."""
        owed = sum(
            (
                c.outstanding
                for c in credits
                if c.status is CreditStatus.OPEN and c.outstanding.currency == amount.currency
            ),
            Money.zero(amount.currency),
        )
        if owed.amount > 0:
            key = "sms.transfer_repaid"
        elif left.amount > 0:
            key = "sms.transfer_repaid_all_credit"
        else:
            key = "sms.transfer_repaid_all"
        locale, opted_out = await self._recipient(s, customer)
        await self._notifications.queue_in(
            s,
            await self._receipt(
                s,
                about,
                self._sms(
                    customer,
                    locale,
                    key,
                    f"credit-repaid:{transfer_id}",
                    amount=amount.format(),
                    paid=(amount - left).format(),
                    owed=owed.format(),
                    credit=left.format(),
                ),
            ),
            suppressed=opted_out,
        )

    async def spend_account_credit(self, customer: Phone, currency: str) -> Money:
        """Money kept on her account (an overpaid transfer, a refund a rail could not make, the
        cash she paid at the door for goods that came back) repays what she owes on credit,
        oldest first, each credit's late fee before its principal, as a repayment does: asked
        when credit arrives while she owes and when she draws on credit while she holds some.
        One transaction under her credits' and her receivable's locks, so concurrent or
        repeated calls spend it once; she is texted what it paid and what she still owes. The
        amount spent (zero when she has not both)."""
        zero = Money.zero(currency)
        # opened first: opening one is a transaction of its own (SQLite has one writer)
        receivable = await self._books.account(chart.receivable(customer, currency))
        line = await self._books.account(chart.credit_line(customer, currency))
        today = self._today(customer)
        giving_back = zero
        if self._refunds_in_flight is not None:
            giving_back = await self._refunds_in_flight(customer, currency)

        async def work(s: AsyncSession) -> Money:
            # her credits locked first, as a repayment locks them (a no-op update: SQLite's
            # write lock at once, so what is read below is what this transaction changes)
            await s.execute(
                update(credit_orders)
                .where(credit_orders.c.customer == customer.e164)
                .values(customer=credit_orders.c.customer)
            )
            credits = [
                c
                for c in await self._credits(s, customer, lock=True)
                if c.status is CreditStatus.OPEN and c.outstanding.currency == currency
            ]
            owed = sum((c.outstanding for c in credits), zero)
            if owed.amount <= 0:
                return zero
            fees = sum((late_fee_owed(c) for c in credits), zero)
            # late fees are booked on her receivable: what it holds for her is net of them
            held = await self._books.ledger.locked_in(s, receivable.id)
            spendable = fees - held.available - giving_back
            if spendable.amount <= 0:
                return zero
            spent = min(spendable, owed)
            updated, _ = apply_repayment(credits, spent, today)
            paid_fees = zero
            for before, after in zip(credits, sorted(updated, key=repayment_order), strict=True):
                if after != before:
                    paid_fees = paid_fees + late_fee_owed(before) - late_fee_owed(after)
                    await self._save(s, after)
            n = 1 + len(
                (
                    await s.execute(
                        select(credit_repayments.c.transfer_id).where(
                            credit_repayments.c.customer == customer.e164,
                            credit_repayments.c.rail == ACCOUNT_CREDIT,
                        )
                    )
                ).all()
            )
            ref = f"{ACCOUNT_CREDIT}:{n}"
            transfer_id = chart.transfer_id("payment", ACCOUNT_CREDIT, customer.e164, str(n))
            await s.execute(
                credit_repayments.insert().values(
                    transfer_id=transfer_id,
                    customer=customer.e164,
                    currency=currency,
                    amount=spent.amount,
                    rail=ACCOUNT_CREDIT,
                    external_ref=ref,
                    created_at=self._clock.now(),
                )
            )
            principal = spent - paid_fees  # the fees were taken on the receivable already
            if principal.amount > 0:
                await self._books.ledger.transfer_in(
                    s,
                    TransferRequest.posted(
                        transfer_id,
                        receivable.id,
                        line.id,
                        principal,
                        code="repayment",
                        reference=ref,
                    ),
                )
            locale, opted_out = await self._recipient(s, customer)
            left = owed - spent
            await self._notifications.queue_in(
                s,
                await self._receipt(
                    s,
                    credits[0].order_reference,  # the credit it paid first
                    self._sms(
                        customer,
                        locale,
                        "credit.account_credit_repaid"
                        if left.amount > 0
                        else "credit.account_credit_repaid_all",
                        f"credit-account_credit:{customer.e164}:{n}",
                        amount=spent.format(),
                        owed=left.format(),
                        credit=(spendable - spent).format(),  # what stays hers
                    ),
                ),
                suppressed=opted_out,
                not_before=self._morning(customer),  # the money at once, the text by day
            )
            return spent

        spent = await self._db.retrying(work)
        if spent.amount > 0:
            await self.decide(customer)  # paid up, an overdue block lifts at once
        return spent

    async def last_paid_from_account_credit(
        self, customer: Phone, *, days: int = 7
    ) -> tuple[Money, date] | None:
        """What her account credit last paid of her credit debt, and on which of her days,
        when within the last `days` (None: none): BAL says so, as the text did."""
        since = self._clock.now() - timedelta(days=days)
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(
                        credit_repayments.c.amount,
                        credit_repayments.c.currency,
                        credit_repayments.c.created_at,
                    )
                    .where(
                        credit_repayments.c.customer == customer.e164,
                        credit_repayments.c.rail == ACCOUNT_CREDIT,
                        credit_repayments.c.created_at >= since,
                    )
                    .order_by(credit_repayments.c.created_at.desc())
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        tz = ZoneInfo(region_for_phone(customer).timezone)
        return Money(row.amount, str(row.currency)), row.created_at.astimezone(tz).date()

    async def credits(self, customer: Phone) -> list[CreditOrder]:
        async with self._db.transaction() as s:
            return await self._credits(s, customer)

    async def blocked(self, customer: Phone) -> bool:
        today = self._today(customer)
        return any(is_overdue(c, today) for c in await self.credits(customer))

    # ---------------------------------------------------------------- the daily run

    async def run_daily(self, *, not_before: time | None = None) -> DailyRun:
        """Reminders (due soon, overdue) and late fees, each once per credit; safe to re-run.

        Each credit is locked and flagged in its own transaction, so any number of runs (a
        scheduled loop on every gateway replica, an operator's `credit daily`) send one reminder.
        `not_before` leaves out customers whose local time is earlier (nobody gets a debt
        reminder at night); a later run the same day picks them up.
        """
        run = DailyRun()
        async with self._db.transaction() as s:
            owing = await s.execute(
                select(credit_orders.c.customer, credit_orders.c.currency)
                .where(credit_orders.c.status == CreditStatus.OPEN.value)
                .distinct()
            )
            debtors = [(Phone(r.customer), str(r.currency)) for r in owing]
        for customer, currency in debtors:
            local = self._clock.now().astimezone(ZoneInfo(region_for_phone(customer).timezone))
            if not_before is not None and local.time() < not_before:
                continue  # its text waits for the morning, as a reminder does
            # credit kept on her account that no event spent yet (one that came back with her
            # goods, a refund a rail refused) repays first: a reminder names what is left
            if (await self._books.account_credit(customer, currency)).amount > 0:
                await self.spend_account_credit(customer, currency)
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(
                    credit_orders.c.customer,
                    credit_orders.c.order_reference,
                    credit_orders.c.currency,
                    credit_orders.c.due_on,
                ).where(
                    credit_orders.c.status == CreditStatus.OPEN.value,
                    # not delivered yet: not due, so nothing to remind of or charge
                    credit_orders.c.due_on.is_not(None),
                )
            )
            open_credits = [
                (Phone(r.customer), r.order_reference, r.currency, r.due_on) for r in rows
            ]
        for customer, reference, currency, due in open_credits:
            local = self._clock.now().astimezone(ZoneInfo(region_for_phone(customer).timezone))
            if not_before is not None and local.time() < not_before:
                run.later.append(reference)
                continue
            today = local.date()
            accounts = None
            if (today - due).days > GRACE_DAYS:
                # the accounts a late fee is booked on first: opening one is a transaction of
                # its own, which SQLite cannot start while this run's transaction writes
                accounts = (
                    await self._books.account(chart.receivable(customer, currency)),
                    await self._books.account(chart.late_fees(currency)),
                )
            async with self._db.transaction() as s:
                credit = await self._credit(s, reference, lock=True)
                if credit is None:
                    continue
                if await self._fee_told(s, customer, credit):
                    run.fee_notices.append(reference)
                kind = reminder_due(credit, today)
                if kind is not None and await self._claim(s, reference, _flag(kind)):
                    locale, opted_out = await self._recipient(s, customer)
                    await self._notifications.queue_in(
                        s, self._reminder(customer, credit, due, kind, locale), suppressed=opted_out
                    )
                    credit = _replace_flag(credit, kind)
                    run.reminders.append((reference, kind))
                fee = late_fee_due(credit, today)
                if fee is None or accounts is None:
                    continue
                receivable, income = accounts
                if await self._claim(s, reference, "late_fee_charged"):
                    charged = charge_late_fee(credit, fee)
                    await self._save(s, charged)
                    locale, opted_out = await self._recipient(s, customer)
                    await self._notifications.queue_in(
                        s,
                        self._sms(
                            customer,
                            locale,
                            "credit.late_fee",
                            f"credit-late_fee:{reference}",
                            reference=reference,
                            fee=fee.format(),
                            amount=charged.outstanding.format(),
                        ),
                        suppressed=opted_out,
                    )
                    await self._books.ledger.transfer_in(
                        s,
                        TransferRequest.posted(
                            chart.transfer_id("late_fee", reference),
                            receivable.id,
                            income.id,
                            fee,
                            code="late_fee",
                            reference=reference,
                        ),
                    )
                    run.late_fees.append((reference, fee))
        return run

    async def _fee_told(self, s: AsyncSession, customer: Phone, credit: CreditOrder) -> bool:
        """A late fee owed on the credit that its retailer was never texted about (charged by
        the first fee code, brought into what the credit owes by migration 0022, which made
        her overdue at once): she is told what it is and what she owes, once (a fee charged
        since was texted as it was charged, under the same key), before any reminder."""
        fee = late_fee_owed(credit)
        if not credit.late_fee_charged or fee.amount <= 0:
            return False
        locale, opted_out = await self._recipient(s, customer)
        return await self._notifications.queue_in(
            s,
            self._sms(
                customer,
                locale,
                "credit.late_fee",
                f"credit-late_fee:{credit.order_reference}",
                reference=credit.order_reference,
                fee=fee.format(),
                amount=credit.outstanding.format(),
            ),
            suppressed=opted_out,
        )

    async def _recipient(self, s: AsyncSession, customer: Phone) -> tuple[str, bool]:
        """The language the retailer chose, else their market's, and whether they sent STOP:
        as every other SMS to a customer, an opted-out retailer's is recorded, not sent."""
        row = (
            await s.execute(
                select(customers.c.locale, customers.c.opted_out).where(
                    customers.c.phone == customer.e164
                )
            )
        ).first()
        opted_out = bool(row is not None and row.opted_out)
        if row is not None and row.locale and self._t.supports(row.locale):
            return str(row.locale), opted_out
        return region_for_phone(customer).default_locale, opted_out

    def _reminder(
        self, customer: Phone, credit: CreditOrder, due: date, kind: ReminderKind, locale: str
    ) -> OutboundMessage:
        return self._sms(
            customer,
            locale,
            f"credit.{kind.value}",
            f"credit-{kind.value}:{credit.order_reference}",
            reference=credit.order_reference,
            amount=credit.outstanding.format(),
            date=due.isoformat(),
        )

    async def _receipt(
        self,
        s: AsyncSession,
        about: str | None,
        message: OutboundMessage,
    ) -> OutboundMessage:
        """A receipt for money that repaid her credit, sent as the notices of the order whose
        credit it paid (`about`) are: on WhatsApp when she placed it in a WhatsApp conversation
        (by SMS once her 24-hour window has closed), else by SMS (`message`, as is); one
        message either way."""
        if about is None or not self._whatsapp:
            return message
        order_key = await s.scalar(
            select(orders.c.idempotency_key).where(orders.c.reference == about)
        )
        provider = (
            None
            if order_key is None
            else await self._notifications.order_whatsapp_in(
                s, self._whatsapp, str(order_key), message.to
            )
        )
        if provider is None:
            return message
        return replace(
            message,
            provider=provider,
            kind=ChannelKind.WHATSAPP,
            sms_fallback=self._sms_provider,
        )

    def _sms(
        self, customer: Phone, locale: str, key: str, dedupe_key: str, **values: object
    ) -> OutboundMessage:
        return OutboundMessage(
            provider=self._sms_provider,
            kind=ChannelKind.SMS,
            to=customer,
            reply=Reply(self._t(locale, key, **values), end=True, locale=locale),
            dedupe_key=dedupe_key,
        )

    # ---------------------------------------------------------------- storage

    async def _credits(
        self, s: AsyncSession, customer: Phone, *, lock: bool = False
    ) -> list[CreditOrder]:
        query = select(credit_orders).where(credit_orders.c.customer == customer.e164)
        if lock:
            query = query.with_for_update()
        # sorted here: the databases put a NULL due date (not delivered) first or last
        return sorted((_credit(r) for r in await s.execute(query)), key=repayment_order)

    async def _credit(
        self, s: AsyncSession, reference: str, *, lock: bool = False
    ) -> CreditOrder | None:
        query = select(credit_orders).where(credit_orders.c.order_reference == reference)
        if lock:
            query = query.with_for_update()
        row = (await s.execute(query)).first()
        return None if row is None else _credit(row)

    async def _claim(self, s: AsyncSession, reference: str, flag: str) -> bool:
        """Set a once-only flag, and say whether this run set it (a concurrent run that got
        there first leaves it set). A conditional UPDATE, so it holds on SQLite too, where
        SELECT ... FOR UPDATE locks nothing."""
        column = credit_orders.c[flag]
        claimed = await s.execute(
            update(credit_orders)
            .where(credit_orders.c.order_reference == reference, column.is_(False))
            .values({flag: True})
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]

    async def _save(self, s: AsyncSession, c: CreditOrder) -> None:
        await s.execute(
            update(credit_orders)
            .where(credit_orders.c.order_reference == c.order_reference)
            .values(
                outstanding=c.outstanding.amount,
                status=c.status.value,
                late_fee_charged=c.late_fee_charged,
                reminded_due_soon=c.reminded_due_soon,
                reminded_overdue=c.reminded_overdue,
                repaid_on=c.repaid_on,
                late_fee_owed=late_fee_owed(c).amount,
            )
        )


def _flag(kind: ReminderKind) -> str:
    return "reminded_due_soon" if kind is ReminderKind.DUE_SOON else "reminded_overdue"


def _replace_flag(c: CreditOrder, kind: ReminderKind) -> CreditOrder:
    if kind is ReminderKind.DUE_SOON:
        return replace(c, reminded_due_soon=True)
    return replace(c, reminded_overdue=True)


def _credit(r: Any) -> CreditOrder:
    return CreditOrder(
        order_reference=r.order_reference,
        amount=Money(r.amount, r.currency),
        outstanding=Money(r.outstanding, r.currency),
        due_on=r.due_on,
        status=CreditStatus(r.status),
        late_fee_charged=r.late_fee_charged,
        reminded_due_soon=r.reminded_due_soon,
        reminded_overdue=r.reminded_overdue,
        repaid_on=r.repaid_on,
        term_days=r.term_days,
        fee_outstanding=Money(r.late_fee_owed, r.currency) if r.late_fee_owed else None,
    )


__all__: Sequence[str] = ["CreditService", "DailyRun", "Repayment"]
