"""The money engines, built together over one database (ledger, invoices, credit, settlement,
payouts, ATC) and wired to the order events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.app.order_payments import ENDED, checkout_payments
from core.app.refunds import return_refunds, short_refund_due, unwound_back_order_due
from core.bus.port import EventBus
from core.clock import Clock
from core.db import Database
from core.i18n import Translator
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from engines.atc import AtcService
from engines.credit import CreditService
from engines.invoices import CreditNoteNotice, InvoiceService, OrderBilling
from engines.ledger import Books, LedgerService
from engines.notifications import NotificationService
from engines.orders import Order, OrderService, OrderStatus
from engines.orders.repository import SqlOrderRepository
from engines.orders.tables import order_lines as lines_table
from engines.orders.tables import orders as orders_table
from engines.payments import Direction, IntentStatus, PaymentIntent
from engines.payments.repository import SqlPaymentRepository
from engines.payments.tables import payment_intents as intents_table
from engines.settlement import Distributor, PayoutService, SettlementService

# One distributor per region until distributors are data of their own: the platform keeps 3 %
# of what it collects and pays the rest out on the region's bank rail.
DISTRIBUTORS = (
    Distributor("lagos", "NGN", Decimal("0.03"), "nibss", "Africa/Lagos"),
    Distributor("nairobi", "KES", Decimal("0.03"), "mpesa", "Africa/Nairobi"),
    Distributor("cape_town", "ZAR", Decimal("0.03"), "bank", "Africa/Johannesburg"),
)


class IntentReceipts:
    """The receipts of payments the ledger booked under their intent id: an M-Pesa payment the
    STK query confirmed names no receipt, which its late callback brings; the provider's
    statement lists it by that receipt, so reconciliation matches it by that."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(self, rail: str, references: Sequence[str]) -> Mapping[str, str]:
        ids: dict[str, uuid.UUID] = {}
        for reference in references:
            try:
                ids[reference] = uuid.UUID(reference)  # a refund names it by its hex
            except ValueError:
                continue  # a receipt already
        if not ids:
            return {}
        async with self._db.transaction() as s:
            found = await SqlPaymentRepository(s).receipts(rail, list(set(ids.values())))
        return {ref: found[i] for ref, i in ids.items() if i in found}


# The refunds that give back an unwound order's own payment, whole: the unwind's (workflows
# off; on, the order workflow's, keyed on its activity), a late payment's, a second payment's.
UNWIND_REFUNDS = ("refund:unwound:", "refund:order-", "refund:late:", "refund:double:")


class RefundsInFlight:
    """What the rails are still giving back to a customer: her account shows it as hers until
    the refund is confirmed (its posting takes it off), so it is not hers to spend on a debt
    meanwhile, or she would have it twice. Money owed back whose refund is not asked yet counts
    too (the ledger's reaction that puts it on her account and the refunder's are separate
    reactions to the same event): what the refunders will ask of each checkout payment, on a
    rail that gives money back (`refundable`; none counted when not given), until they ask it.
    A refund that failed leaves it hers to spend."""

    def __init__(self, db: Database, *, refundable: Callable[[str], bool] | None = None) -> None:
        self._db = db
        self._refundable = refundable

    async def __call__(self, customer: Phone, currency: str) -> Money:
        async with self._db.transaction() as s:
            repo = SqlPaymentRepository(s)
            refunds = await repo.open_refunds()
            owed = await self._not_asked_yet(s, repo, customer, currency)
        # in whole units, rounded up: an M-Pesa reversal gives back all the payment, which
        # was asked in whole shillings (what is left over is spent once it is confirmed)
        giving = [
            r.payable.amount
            for r in refunds
            if r.customer == customer and r.amount.currency == currency
        ]
        return Money(
            sum((a.to_integral_value(rounding=ROUND_CEILING) for a in giving + owed), Decimal(0)),
            currency,
        )

    async def _not_asked_yet(
        self, s: AsyncSession, repo: SqlPaymentRepository, customer: Phone, currency: str
    ) -> list[Decimal]:
        """What the refunders will give back of her orders' checkout payments and have not
        asked yet (paid in parts: no rail gives those back, they are hers)."""
        if self._refundable is None:
            return []
        ended = select(orders_table.c.reference).where(
            orders_table.c.customer == customer.e164,
            orders_table.c.currency == currency,
            orders_table.c.status.in_([status.value for status in ENDED]),
        )
        paid_twice = (
            select(intents_table.c.order_reference)
            .where(
                intents_table.c.customer == customer.e164,
                intents_table.c.currency == currency,
                intents_table.c.direction == Direction.COLLECT.value,
                intents_table.c.status == IntentStatus.SUCCEEDED.value,
                intents_table.c.order_reference.is_not(None),
            )
            .group_by(intents_table.c.order_reference)
            .having(func.count() > 1)
        )
        backs = orders_table.alias("backs")
        short = select(orders_table.c.reference).where(
            orders_table.c.customer == customer.e164,
            orders_table.c.currency == currency,
            orders_table.c.status.in_([OrderStatus.DELIVERED.value, OrderStatus.RETURNED.value]),
            exists().where(
                lines_table.c.order_id == orders_table.c.id,
                lines_table.c.delivered_quantity < lines_table.c.quantity,
            ),
            ~exists().where(backs.c.back_order_of == orders_table.c.id),  # its rest released
        )
        shorts = set((await s.scalars(short)).all())
        orders = SqlOrderRepository(s)
        found = await orders.by_references(
            [*(await s.scalars(ended)).all(), *(await s.scalars(paid_twice)).all(), *shorts]
        )
        if not found:
            return []
        lineages = {o.reference: await _earlier(orders, o) for o in found}
        paying = {o.reference for o in found} | {e[0].reference for e in lineages.values() if e}
        owed = OwedBack(await repo.for_orders(sorted(paying)), self._refundable)
        for order in found:
            if order.reference in shorts:
                owed.short(order, lineages[order.reference])
            if order.status in ENDED:
                owed.unwound(order, lineages[order.reference])
            else:
                owed.paid_twice(order.reference)
        return owed.parts


class OwedBack:
    """What the refunders will ask the rails to give back of her orders' checkout payments
    (the same amounts and keys as core.app.refunds), less what they asked already: each
    refund's key asked once, all that is left of a payment an unwind gives back."""

    def __init__(self, intents: Sequence[PaymentIntent], refundable: Callable[[str], bool]) -> None:
        self._intents = intents
        self._refundable = refundable
        self._keys = {i.idempotency_key for i in intents if i.direction is Direction.REFUND}
        self.parts: list[Decimal] = []

    def unwound(self, order: Order, earlier: Sequence[Order] = ()) -> None:
        """A cancelled or returned order: brought back before delivery, all that is left of
        each of its own payments (its unwind's refund, or a late or second payment's), or, for
        a back-order born paid (`earlier`: the orders before it, first placed first), what it
        cost, from its original's payments (CancelledBackOrderRefunder); brought back after
        delivery, what was delivered (ReturnedOrderRefunder), the oldest payment first."""
        delivered = any(line.delivered_quantity is not None for line in order.lines)
        if order.paid_by_original and earlier:
            paid = self._paid(earlier[0].reference)
            tag = f"{order.reference}:"
            if delivered:
                self._keyed(paid, f"refund:returned:{tag}", order.total)
            elif paid:
                due = unwound_back_order_due(
                    paid[0].amount, [o.total for o in earlier], order.total
                )
                self._keyed(paid, f"refund:cancelled:{tag}", due)
            return
        paid = self._paid(order.reference)
        if delivered:
            self._keyed(paid, "refund:returned:", order.total)
            self.paid_twice(order.reference)
            return
        for p in paid:
            refunds = self._refunds_of(p)
            if self._counts(p) and not any(
                r.idempotency_key.startswith(UNWIND_REFUNDS) for r in refunds
            ):
                self.parts.append(self._left(p, refunds))

    def short(self, order: Order, earlier: Sequence[Order] = ()) -> None:
        """A paid order delivered short, its rest not kept for a back-order: what was paid for
        what did not arrive (ShortDeliveryRefunder), from its own payments or, for a back-order
        born paid, its original's (what arrived of the orders before it counted)."""
        of_original = order.paid_by_original and bool(earlier)
        paid = self._paid(earlier[0].reference if of_original else order.reference)
        if not paid:
            return  # nothing paid upfront: she owes only what arrived
        arrived = sum((o.total for o in earlier), order.total) if of_original else order.total
        tag = f"{order.reference}:" if of_original else ""
        self._keyed(paid, f"refund:short:{tag}", short_refund_due(paid[0].amount, arrived))

    def paid_twice(self, reference: str) -> None:
        """An order charged more than once: all of each later payment (DoubleChargeRefunder)."""
        for p in self._paid(reference)[1:]:
            if self._counts(p) and f"refund:double:{p.id}" not in self._keys:
                self.parts.append(self._left(p, self._refunds_of(p)))

    def _keyed(self, paid: list[PaymentIntent], prefix: str, due: Money) -> None:
        """`due` given back from `paid`, the oldest first, each refund keyed `prefix` + the
        payment's id: what no refund was asked under its key yet."""
        lefts = [Money(self._left(p, self._refunds_of(p)), due.currency) for p in paid]
        for p, part in zip(paid, return_refunds(due, lefts), strict=True):
            if self._counts(p) and f"{prefix}{p.id}" not in self._keys:
                self.parts.append(part.amount)

    def _paid(self, reference: str) -> list[PaymentIntent]:
        return checkout_payments(
            [i for i in self._intents if i.order_reference == reference], reference
        )

    def _counts(self, paid: PaymentIntent) -> bool:
        """Whether a rail gives `paid` back (paid in parts: none does, they are hers)."""
        return paid.received_in_parts.amount == 0 and self._refundable(paid.provider)

    def _refunds_of(self, paid: PaymentIntent) -> list[PaymentIntent]:
        return [i for i in self._intents if i.refund_of == paid.id]

    @staticmethod
    def _left(paid: PaymentIntent, refunds: list[PaymentIntent]) -> Decimal:
        """What no refund took of `paid` (failed and cancelled ones took none), in what its
        prompt asked (M-Pesa: whole shillings)."""
        given = sum(
            (
                r.payable.amount
                for r in refunds
                if r.status not in (IntentStatus.FAILED, IntentStatus.CANCELLED)
            ),
            Decimal(0),
        )
        return max(paid.asked.amount - given, Decimal(0))


async def _earlier(orders: SqlOrderRepository, order: Order) -> list[Order]:
    """The orders a back-order born paid is the back-order of, first placed first (whose
    payment paid for it: OrderService.lineage); none for any other order."""
    if not order.paid_by_original:
        return []
    line: list[Order] = []
    at: Order | None = order
    while at is not None and at.back_order_of is not None:
        at = await orders.by_id(at.back_order_of)
        if at is not None:
            line.insert(0, at)
    return line


@dataclass(frozen=True, slots=True)
class MoneyServices:
    ledger: LedgerService
    books: Books
    invoices: InvoiceService
    credit: CreditService
    settlement: SettlementService
    payouts: PayoutService
    atc: AtcService

    async def close(self) -> None:
        await self.ledger.close()


def build_money(
    *,
    db: Database,
    bus: EventBus,
    clock: Clock,
    ids: IdGenerator,
    orders: OrderService,
    notifications: NotificationService,
    translate: Translator,
    sms_provider: str,
    credit_notes: CreditNoteNotice | None = None,
    refundable: Callable[[str], bool] | None = None,
    reminder_hour: int = 8,
    whatsapp: frozenset[str] = frozenset(),
) -> MoneyServices:
    """`credit_notes` tells retailers of the credit notes billing issues (the gateway's);
    `refundable` says which rails give money back (RefundsInFlight); `reminder_hour`, the local
    hour before which no text about her debt goes; `whatsapp`, the providers able to send a
    notice (a credit repayment's receipt goes as its order's notices do)."""
    ledger = LedgerService(db, clock, ids)
    giving_back = RefundsInFlight(db, refundable=refundable)
    books = Books(ledger, refunds_in_flight=giving_back)
    invoices = InvoiceService(db, ids)
    credit = CreditService(
        db,
        books,
        notifications,
        translate,
        clock,
        sms_provider=sms_provider,
        refunds_in_flight=giving_back,
        reminder_hour=reminder_hour,
        whatsapp=whatsapp,
    )
    OrderBilling(invoices, books, orders, credit, told=credit_notes).subscribe(bus)
    return MoneyServices(
        ledger,
        books,
        invoices,
        credit,
        SettlementService(db, books, clock, ids, receipts=IntentReceipts(db)),
        PayoutService(books),
        AtcService(db, books, clock),
    )
