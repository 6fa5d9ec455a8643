"""Issue an invoice once per order, and a credit note once per order and reason, each numbered
from its country's counter (its own series) in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import EventEnvelope
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, region
from engines.credit.tables import credit_orders
from engines.invoices.model import (
    Credit,
    CreditNote,
    CreditReason,
    Invoice,
    InvoiceLine,
    KeptLine,
    UnknownInvoiceError,
    VatLine,
    credit_note_prefix,
    full_credit,
    invoice_number,
    number_prefix,
    returned_credit,
    shortfall_credit,
    vat_breakdown,
)
from engines.invoices.tables import credit_notes, invoice_counters, invoices
from engines.orders import Order
from engines.orders.events import OrderPlaced

ISSUE_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class IssueInvoice:
    region: RegionCode
    customer: Phone
    order_reference: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    payment_method: str
    issued_at: datetime
    due_on: date | None = None


def issue_for_order_placed(event: OrderPlaced, due_on: date | None = None) -> IssueInvoice:
    """The invoice an order placed on any channel gets (the event carries every figure)."""
    currency = event.currency
    rate = region(event.region).vat_rate
    return IssueInvoice(
        region=RegionCode(event.region),
        customer=Phone(event.customer),
        order_reference=event.reference,
        lines=tuple(
            InvoiceLine(
                line.sku,
                line.name,
                line.quantity,
                Money(Decimal(line.unit_price), currency),
                Money(Decimal(line.discount), currency),
                rate if line.tax_class == "standard" else Decimal(0),
            )
            for line in event.lines
        ),
        subtotal=Money(Decimal(event.subtotal), currency),
        discount=Money(Decimal(event.discount), currency),
        tax=Money(Decimal(event.tax), currency),
        total=Money(Decimal(event.total), currency),
        payment_method=event.payment_method,
        issued_at=event.occurred_at,
        due_on=due_on,
    )


def issue_for_order(order: Order, due_on: date | None = None) -> IssueInvoice:
    """The invoice of an order read back from the orders engine."""
    rate = region(order.region).vat_rate
    return IssueInvoice(
        region=order.region,
        customer=order.customer,
        order_reference=order.reference,
        lines=tuple(
            InvoiceLine(
                li.sku,
                li.name,
                li.quantity,
                li.unit_price,
                li.discount,
                rate if li.vat_applies else Decimal(0),
            )
            for li in order.lines
        ),
        subtotal=order.subtotal,
        discount=order.discount,
        tax=order.tax,
        total=order.total,
        payment_method=order.payment_method.value,
        issued_at=order.created_at,
        due_on=due_on,
    )


class InvoiceService:
    def __init__(self, db: Database, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def issue(self, command: IssueInvoice) -> Invoice:
        """The order's invoice: issued on first call, the same one (same number) after."""
        for _ in range(ISSUE_ATTEMPTS - 1):
            try:
                return await self._db.retrying(lambda s: self._issue_in(s, command))
            except IntegrityError:
                # a concurrent twin issued it, or opened the year's counter, first: look again
                continue
        return await self._db.retrying(lambda s: self._issue_in(s, command))

    async def on_order_placed(self, envelope: EventEnvelope) -> None:
        """Bus subscriber: every placed order gets its invoice."""
        await self.issue(issue_for_order_placed(OrderPlaced.model_validate(envelope.data)))

    async def _issue_in(self, s: AsyncSession, c: IssueInvoice) -> Invoice:
        existing = await self._by(s, invoices.c.order_reference == c.order_reference)
        if existing is not None:
            return existing
        local = c.issued_at.astimezone(ZoneInfo(region(c.region).timezone))
        prefix = number_prefix(c.region, local.year)
        sequence = await _next_number(s, prefix)
        currency = c.total.currency
        vat = _vat(c.lines, c.tax, c.total - c.tax - (c.subtotal - c.discount), c.region)
        invoice = Invoice(
            id=self._ids.uuid(),
            number=invoice_number(prefix, sequence),
            region=c.region,
            customer=c.customer,
            order_reference=c.order_reference,
            lines=c.lines,
            vat=vat,
            subtotal=c.subtotal,
            discount=c.discount,
            tax=c.tax,
            total=c.total,
            payment_method=c.payment_method,
            issued_at=c.issued_at,
            due_on=c.due_on,
        )
        await s.execute(
            invoices.insert().values(
                id=invoice.id,
                number=invoice.number,
                region=invoice.region.value,
                customer=invoice.customer.e164,
                order_reference=invoice.order_reference,
                currency=currency,
                subtotal=invoice.subtotal.amount,
                discount=invoice.discount.amount,
                tax=invoice.tax.amount,
                total=invoice.total.amount,
                payment_method=invoice.payment_method,
                lines=_lines_json(invoice.lines),
                vat=[[str(v.rate), str(v.base.amount), str(v.tax.amount)] for v in vat],
                issued_at=invoice.issued_at,
                due_on=invoice.due_on,
            )
        )
        return invoice

    # ------------------------------------------------------------ credit notes

    async def credit_cancelled(self, reference: str, issued_at: datetime) -> CreditNote | None:
        """The cancelled order's whole invoice credited, once; None if it has no invoice."""
        return await self._credit(reference, CreditReason.CANCELLED, full_credit, issued_at)

    async def credit_undelivered(
        self,
        reference: str,
        kept: Mapping[str, KeptLine],
        kept_totals: tuple[Money, Money, Money, Money],
        issued_at: datetime,
    ) -> CreditNote | None:
        """What did not arrive of a partly delivered order credited, once; None if it all
        arrived or the order has no invoice. `kept` and `kept_totals` are the delivered order's
        lines (by sku) and subtotal, discount, tax and total."""
        return await self._credit(
            reference,
            CreditReason.UNDELIVERED,
            lambda invoice: shortfall_credit(invoice, kept, kept_totals),
            issued_at,
        )

    async def credit_returned(
        self,
        reference: str,
        kept: Mapping[str, KeptLine],
        kept_totals: tuple[Money, Money, Money, Money],
        issued_at: datetime,
    ) -> CreditNote | None:
        """What a delivered order's customer kept, brought back after delivery, credited once
        (a short delivery's note credited the rest); None if the order has no invoice. `kept`
        and `kept_totals` are the delivered order's lines and totals, as for
        `credit_undelivered`."""
        return await self._credit(
            reference,
            CreditReason.RETURNED,
            lambda invoice: returned_credit(invoice, kept, kept_totals),
            issued_at,
        )

    async def credit_notes(self, reference: str) -> list[CreditNote]:
        """The order's credit notes, oldest first."""
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(credit_notes)
                .where(credit_notes.c.order_reference == reference.upper())
                .order_by(credit_notes.c.number)
            )
            return [_credit_note(r) for r in rows]

    async def credit_note(self, number: str) -> CreditNote:
        async with self._db.transaction() as s:
            row = (
                await s.execute(select(credit_notes).where(credit_notes.c.number == number.upper()))
            ).first()
        if row is None:
            raise UnknownInvoiceError(number)
        return _credit_note(row)

    async def _credit(
        self,
        reference: str,
        reason: CreditReason,
        make: Callable[[Invoice], Credit | None],
        issued_at: datetime,
    ) -> CreditNote | None:
        for _ in range(ISSUE_ATTEMPTS - 1):
            try:
                return await self._db.retrying(
                    lambda s: self._credit_in(s, reference, reason, make, issued_at)
                )
            except IntegrityError:
                continue  # a concurrent twin issued it (or opened the counter) first: look again
        return await self._db.retrying(
            lambda s: self._credit_in(s, reference, reason, make, issued_at)
        )

    async def _credit_in(
        self,
        s: AsyncSession,
        reference: str,
        reason: CreditReason,
        make: Callable[[Invoice], Credit | None],
        issued_at: datetime,
    ) -> CreditNote | None:
        reference = reference.upper()
        existing = (
            await s.execute(
                select(credit_notes).where(
                    credit_notes.c.order_reference == reference,
                    credit_notes.c.reason == reason.value,
                )
            )
        ).first()
        if existing is not None:
            return _credit_note(existing)
        invoice = await self._by(s, invoices.c.order_reference == reference)
        if invoice is None:
            return None
        credit = make(invoice)
        if credit is None:
            return None
        local = issued_at.astimezone(ZoneInfo(region(invoice.region).timezone))
        prefix = credit_note_prefix(invoice.region, local.year)
        note = CreditNote(
            id=self._ids.uuid(),
            number=invoice_number(prefix, await _next_number(s, prefix)),
            invoice_number=invoice.number,
            region=invoice.region,
            customer=invoice.customer,
            order_reference=reference,
            reason=reason,
            lines=credit.lines,
            vat=_vat(
                credit.lines,
                credit.tax,
                credit.total - credit.tax - (credit.subtotal - credit.discount),
                invoice.region,
            ),
            subtotal=credit.subtotal,
            discount=credit.discount,
            tax=credit.tax,
            total=credit.total,
            issued_at=issued_at,
        )
        await s.execute(
            credit_notes.insert().values(
                id=note.id,
                number=note.number,
                invoice_number=note.invoice_number,
                region=note.region.value,
                customer=note.customer.e164,
                order_reference=note.order_reference,
                reason=note.reason.value,
                currency=note.total.currency,
                subtotal=note.subtotal.amount,
                discount=note.discount.amount,
                tax=note.tax.amount,
                total=note.total.amount,
                lines=_lines_json(note.lines),
                vat=[[str(v.rate), str(v.base.amount), str(v.tax.amount)] for v in note.vat],
                issued_at=note.issued_at,
            )
        )
        return note

    async def get(self, number: str) -> Invoice:
        async with self._db.transaction() as s:
            found = await self._by(s, invoices.c.number == number.upper())
        if found is None:
            raise UnknownInvoiceError(number)
        return found

    async def find(self, key: str) -> Invoice | None:
        """The invoice a person names: by its number (NG-2026-000123) or its order's reference,
        as a retailer reads either off an SMS. Bought on credit, it says when it falls due as
        the credit does today: its term after delivery, a date once delivered."""
        key = key.strip().upper()
        async with self._db.transaction() as s:
            found = await self._by(
                s, or_(invoices.c.number == key, invoices.c.order_reference == key)
            )
            if found is None:
                return None
            terms = (
                await s.execute(
                    select(credit_orders.c.due_on, credit_orders.c.term_days).where(
                        credit_orders.c.order_reference == found.order_reference
                    )
                )
            ).first()
        if terms is None:
            return found
        return replace(
            found,
            due_on=terms.due_on,
            due_days_after_delivery=terms.term_days if terms.due_on is None else None,
        )

    async def for_order(self, reference: str) -> Invoice | None:
        async with self._db.transaction() as s:
            return await self._by(s, invoices.c.order_reference == reference.upper())

    async def numbers(self, prefix: str) -> list[str]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(invoices.c.number)
                .where(invoices.c.number.startswith(prefix + "-", autoescape=True))
                .order_by(invoices.c.number)
            )
            return [r.number for r in rows]

    async def _by(self, s: AsyncSession, where: Any) -> Invoice | None:
        row = (await s.execute(select(invoices).where(where))).first()
        return None if row is None else _invoice(row)


async def _next_number(s: AsyncSession, prefix: str) -> int:
    """The series' next number, gapless: the counter row is locked (UPDATE first, so both
    databases queue here) until the document using the number commits or rolls back."""
    bumped = await s.execute(
        update(invoice_counters)
        .where(invoice_counters.c.prefix == prefix)
        .values(last_number=invoice_counters.c.last_number + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        await s.execute(insert(invoice_counters).values(prefix=prefix, last_number=1))
    sequence: int = (
        await s.execute(
            select(invoice_counters.c.last_number).where(invoice_counters.c.prefix == prefix)
        )
    ).scalar_one()
    return sequence


def _vat(
    lines: tuple[InvoiceLine, ...], tax: Money, delivery: Money, region_code: RegionCode
) -> tuple[VatLine, ...]:
    """VAT per rate, the delivery fee taxed at the country's rate as the quote taxed it."""
    standard = region(region_code).vat_rate
    vat = vat_breakdown(lines, tax.currency, delivery=delivery, delivery_rate=standard)
    taxed = [v for v in vat if v.rate > 0]
    if len(taxed) == 1 and taxed[0].tax != tax:
        # the order's quote is what the customer agreed to: its tax stands
        vat = tuple(VatLine(v.rate, v.base, tax) if v is taxed[0] else v for v in vat)
    return vat


def _lines_json(lines: tuple[InvoiceLine, ...]) -> list[list[Any]]:
    return [
        [
            li.sku,
            li.name,
            li.quantity,
            str(li.unit_price.amount),
            str(li.discount.amount),
            str(li.vat_rate),
        ]
        for li in lines
    ]


def _lines(raw: Any, cur: str) -> tuple[InvoiceLine, ...]:
    return tuple(
        InvoiceLine(sku, name, int(qty), Money(Decimal(p), cur), Money(Decimal(d), cur), Decimal(v))
        for sku, name, qty, p, d, v in raw
    )


def _vat_lines(raw: Any, cur: str) -> tuple[VatLine, ...]:
    return tuple(
        VatLine(Decimal(rate), Money(Decimal(base), cur), Money(Decimal(tax), cur))
        for rate, base, tax in raw
    )


def _credit_note(r: Any) -> CreditNote:
    cur = r.currency
    return CreditNote(
        id=r.id if isinstance(r.id, uuid.UUID) else uuid.UUID(str(r.id)),
        number=r.number,
        invoice_number=r.invoice_number,
        region=RegionCode(r.region),
        customer=Phone(r.customer),
        order_reference=r.order_reference,
        reason=CreditReason(r.reason),
        lines=_lines(r.lines, cur),
        vat=_vat_lines(r.vat, cur),
        subtotal=Money(Decimal(r.subtotal), cur),
        discount=Money(Decimal(r.discount), cur),
        tax=Money(Decimal(r.tax), cur),
        total=Money(Decimal(r.total), cur),
        issued_at=r.issued_at,
    )


def _invoice(r: Any) -> Invoice:
    cur = r.currency
    return Invoice(
        id=r.id if isinstance(r.id, uuid.UUID) else uuid.UUID(str(r.id)),
        number=r.number,
        region=RegionCode(r.region),
        customer=Phone(r.customer),
        order_reference=r.order_reference,
        lines=_lines(r.lines, cur),
        vat=_vat_lines(r.vat, cur),
        subtotal=Money(Decimal(r.subtotal), cur),
        discount=Money(Decimal(r.discount), cur),
        tax=Money(Decimal(r.tax), cur),
        total=Money(Decimal(r.total), cur),
        payment_method=r.payment_method,
        issued_at=r.issued_at,
        due_on=r.due_on,
    )
