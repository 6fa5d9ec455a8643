"""The money engines, built together over one database (ledger, invoices, credit, settlement,
payouts, ATC) and wired to the order events."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

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
    meanwhile, or she would have it twice."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(self, customer: Phone, currency: str) -> Money:
        async with self._db.transaction() as s:
            refunds = await SqlPaymentRepository(s).open_refunds()
        # in whole units, rounded up: an M-Pesa reversal gives back all the payment, which
        # was asked in whole shillings (what is left over is spent once it is confirmed)
        return Money(
            sum(
                (
                    r.payable.amount.to_integral_value(rounding=ROUND_CEILING)
                    for r in refunds
                    if r.customer == customer and r.amount.currency == currency
                ),
                Decimal(0),
            ),
            currency,
        )


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
) -> MoneyServices:
    """`credit_notes` tells retailers of the credit notes billing issues (the gateway's)."""
    ledger = LedgerService(db, clock, ids)
    giving_back = RefundsInFlight(db)
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
