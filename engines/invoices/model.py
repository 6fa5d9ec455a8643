"""Invoices: numbered per country and year without gaps, VAT broken out per rate.

The number is what a retailer quotes on the phone and an auditor checks for gaps, so it is
taken from a counter in the same transaction that stores the invoice (a rolled-back invoice
never uses a number).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from core.money import Money
from core.phone import Phone
from core.region import RegionCode, region


class InvoiceError(Exception):
    """Base of the invoices context's errors."""


class UnknownInvoiceError(InvoiceError):
    pass


def number_prefix(region_code: RegionCode, year: int) -> str:
    """'NG-2026': the country and the year a sequence belongs to."""
    return f"{region(region_code).country}-{year}"


def invoice_number(prefix: str, sequence: int) -> str:
    """'NG-2026-000123'."""
    return f"{prefix}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money
    discount: Money
    vat_rate: Decimal

    @property
    def net(self) -> Money:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True, slots=True)
class VatLine:
    rate: Decimal
    base: Money
    tax: Money


def vat_breakdown(lines: Iterable[InvoiceLine], currency: str) -> tuple[VatLine, ...]:
    """Net amount and VAT per rate, highest rate first; tax rounded half-up once per rate."""
    bases: dict[Decimal, Money] = {}
    for line in lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, Money.zero(currency)) + line.net
    return tuple(
        VatLine(rate, base, Money(base.amount * rate, currency))
        for rate, base in sorted(bases.items(), reverse=True)
    )


@dataclass(frozen=True, slots=True)
class Invoice:
    id: uuid.UUID
    number: str
    region: RegionCode
    customer: Phone
    order_reference: str
    lines: tuple[InvoiceLine, ...]
    vat: tuple[VatLine, ...]
    subtotal: Money  # before discounts
    discount: Money
    tax: Money
    total: Money
    payment_method: str
    issued_at: datetime
    due_on: date | None = None

    @property
    def net(self) -> Money:
        return self.subtotal - self.discount


Words = Callable[..., str]  # (msgid, **values) -> the reader's words, from locales/


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def render_text(invoice: Invoice, t: Words) -> str:
    """The invoice as a person reads it on paper, e-mail or WhatsApp: plain text, 40 columns."""
    width = 40

    def row(label: str, value: str) -> str:
        if len(label) + len(value) + 1 > width:  # never cut words: the amount goes below
            return f"{label}\n{value:>{width}}"
        return f"{label:<{width - len(value)}}{value}"

    out = [
        t("invoice.title", number=invoice.number),
        t("invoice.date", date=invoice.issued_at.date().isoformat()),
        t("invoice.order", reference=invoice.order_reference),
        t("invoice.customer", phone=invoice.customer.e164),
        "-" * width,
    ]
    for line in invoice.lines:
        out.append(line.name[:width])
        out.append(row(f"  {line.quantity} x {line.unit_price.format()}", line.net.format()))
        if line.discount.amount:
            out.append(row("  " + t("invoice.discount"), f"-{line.discount.format()}"))
    out.append("-" * width)
    out.append(row(t("invoice.subtotal"), invoice.subtotal.format()))
    if invoice.discount.amount:
        out.append(row(t("invoice.discount"), f"-{invoice.discount.format()}"))
    for vat in invoice.vat:
        label = t("invoice.vat_line", rate=_pct(vat.rate), base=vat.base.format())
        out.append(row(label, vat.tax.format()))
    out.append(row(t("invoice.total"), invoice.total.format()))
    if invoice.due_on is not None:
        out.append(t("invoice.due", date=invoice.due_on.isoformat()))
    return "\n".join(out)


def render_sms(invoice: Invoice, t: Words) -> str:
    """One SMS: number, total, VAT, due date when on credit."""
    vat = ", ".join(f"{_pct(v.rate)} {v.tax.format()}" for v in invoice.vat)
    text = t(
        "invoice.sms",
        number=invoice.number,
        reference=invoice.order_reference,
        total=invoice.total.format(),
        vat=vat,
    )
    if invoice.due_on is not None:
        text += " " + t("invoice.sms_due", date=invoice.due_on.isoformat())
    return text
