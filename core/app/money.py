"""The money engines, built together over one database (ledger, invoices, credit, settlement,
payouts, ATC) and wired to the order events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.app.order_payments import ENDED, checkout_payments
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
from engines.orders import OrderService
from engines.orders.tables import orders as orders_table
from engines.payments import Direction, PaymentIntent
from engines.payments.repository import SqlPaymentRepository
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


class RefundsInFlight:
    """What the rails are still giving back to a customer: her account shows it as hers until
    the refund is confirmed (its posting takes it off), so it is not hers to spend on a debt
    meanwhile, or she would have it twice. A paid order cancelled or returned whose refund is
    not asked yet counts too (its hold's void and its refund are separate reactions to the
    same event): each of its checkout payments no refund was asked of, on a rail that gives
    money back (`refundable`; none counted when not given). A refund that failed leaves it
    hers to spend."""

    def __init__(self, db: Database, *, refundable: Callable[[str], bool] | None = None) -> None:
        self._db = db
        self._refundable = refundable

    async def __call__(self, customer: Phone, currency: str) -> Money:
        async with self._db.transaction() as s:
            repo = SqlPaymentRepository(s)
            refunds = await repo.open_refunds()
            ended = await self._not_refunded_yet(s, repo, customer, currency)
        # in whole units, rounded up: an M-Pesa reversal gives back all the payment, which
        # was asked in whole shillings (what is left over is spent once it is confirmed)
        giving = [
            r.payable.amount
            for r in refunds
            if r.customer == customer and r.amount.currency == currency
        ]
        giving += [p.asked.amount for p in ended]
        return Money(
            sum((a.to_integral_value(rounding=ROUND_CEILING) for a in giving), Decimal(0)),
            currency,
        )

    async def _not_refunded_yet(
        self, s: AsyncSession, repo: SqlPaymentRepository, customer: Phone, currency: str
    ) -> list[PaymentIntent]:
        """The checkout payments of her cancelled or returned orders that no refund was asked
        of yet (paid in parts: no rail gives those back, they are hers)."""
        if self._refundable is None:
            return []
        ended = (
            await s.scalars(
                select(orders_table.c.reference).where(
                    orders_table.c.customer == customer.e164,
                    orders_table.c.currency == currency,
                    orders_table.c.status.in_([status.value for status in ENDED]),
                )
            )
        ).all()
        if not ended:
            return []
        intents = await repo.for_orders(list(ended))
        # a short delivery's refund gave back only what did not arrive: the return's is not it
        asked = {
            i.refund_of
            for i in intents
            if i.direction is Direction.REFUND and not i.idempotency_key.startswith("refund:short:")
        }
        return [
            p
            for ref in ended
            for p in checkout_payments([i for i in intents if i.order_reference == ref], ref)
            if p.id not in asked
            and p.received_in_parts.amount == 0
            and self._refundable(p.provider)
        ]


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
