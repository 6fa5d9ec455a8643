"""Issue an invoice once per order, numbered from the country's counter in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import EventEnvelope
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, region
from engines.invoices.model import (
    Invoice,
    InvoiceLine,
    UnknownInvoiceError,
    VatLine,
    invoice_number,
    number_prefix,
    vat_breakdown,
)
from engines.invoices.tables import invoice_counters, invoices
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
                rate,
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
            InvoiceLine(li.sku, li.name, li.quantity, li.unit_price, li.discount, rate)
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
        # Lock the counter row (UPDATE first, so both databases queue here), then read it.
        bumped = await s.execute(
            update(invoice_counters)
            .where(invoice_counters.c.prefix == prefix)
            .values(last_number=invoice_counters.c.last_number + 1)
        )
        if bumped.rowcount == 0:  # type: ignore[attr-defined]
            await s.execute(insert(invoice_counters).values(prefix=prefix, last_number=1))
        sequence = (
            await s.execute(
                select(invoice_counters.c.last_number).where(invoice_counters.c.prefix == prefix)
            )
        ).scalar_one()
        currency = c.total.currency
        vat = vat_breakdown(c.lines, currency)
        if len(vat) == 1 and vat[0].tax != c.tax:
            # the order's quote is what the customer agreed to: its tax stands
            vat = (VatLine(vat[0].rate, vat[0].base, c.tax),)
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
                lines=[
                    [
                        li.sku,
                        li.name,
                        li.quantity,
                        str(li.unit_price.amount),
                        str(li.discount.amount),
                        str(li.vat_rate),
                    ]
                    for li in invoice.lines
                ],
                vat=[[str(v.rate), str(v.base.amount), str(v.tax.amount)] for v in vat],
                issued_at=invoice.issued_at,
                due_on=invoice.due_on,
            )
        )
        return invoice

    async def get(self, number: str) -> Invoice:
        async with self._db.transaction() as s:
            found = await self._by(s, invoices.c.number == number.upper())
        if found is None:
            raise UnknownInvoiceError(number)
        return found

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


def _invoice(r: Any) -> Invoice:
    cur = r.currency
    return Invoice(
        id=r.id if isinstance(r.id, uuid.UUID) else uuid.UUID(str(r.id)),
        number=r.number,
        region=RegionCode(r.region),
        customer=Phone(r.customer),
        order_reference=r.order_reference,
        lines=tuple(
            InvoiceLine(
                sku, name, int(qty), Money(Decimal(p), cur), Money(Decimal(d), cur), Decimal(v)
            )
            for sku, name, qty, p, d, v in r.lines
        ),
        vat=tuple(
            VatLine(Decimal(rate), Money(Decimal(base), cur), Money(Decimal(tax), cur))
            for rate, base, tax in r.vat
        ),
        subtotal=Money(Decimal(r.subtotal), cur),
        discount=Money(Decimal(r.discount), cur),
        tax=Money(Decimal(r.tax), cur),
        total=Money(Decimal(r.total), cur),
        payment_method=r.payment_method,
        issued_at=r.issued_at,
        due_on=r.due_on,
    )
