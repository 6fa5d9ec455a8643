"""Invoices: numbered per country and year without gaps, VAT broken out per rate.

The number is what a retailer quotes on the phone and an auditor checks for gaps, so it is
taken from a counter in the same transaction that stores the invoice (a rolled-back invoice
never uses a number).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from core.money import Money
from core.phone import Phone
from core.region import RegionCode, local_date, region


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


def vat_breakdown(
    lines: Iterable[InvoiceLine],
    currency: str,
    *,
    delivery: Money | None = None,
    delivery_rate: Decimal = Decimal(0),
) -> tuple[VatLine, ...]:
    """Net amount and VAT per rate, highest rate first; tax rounded half-up once per rate. The
    delivery fee is in the base of its rate (the standard one: the quote taxes it)."""
    bases: dict[Decimal, Money] = {}
    for line in lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, Money.zero(currency)) + line.net
    if delivery is not None and delivery.amount:
        bases[delivery_rate] = bases.get(delivery_rate, Money.zero(currency)) + delivery
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
    # bought on credit and not delivered yet: due this many days after delivery
    due_days_after_delivery: int | None = None

    @property
    def net(self) -> Money:
        return self.subtotal - self.discount

    @property
    def issued_on(self) -> date:
        """The day it was issued where the customer is: the day its number's year counts."""
        return local_date(self.region, self.issued_at)

    @property
    def delivery(self) -> Money:
        """The delivery fee charged (after any free delivery), before VAT: what the total holds
        besides the goods and the tax."""
        return self.total - self.tax - self.net


Words = Callable[..., str]  # (msgid, **values) -> the reader's words, from locales/


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


WIDTH = 40  # columns of the printed invoice and credit note


def _row(label: str, value: str) -> str:
    if len(label) + len(value) + 1 > WIDTH:  # never cut words: the amount goes below
        return f"{label}\n{value:>{WIDTH}}"
    return f"{label:<{WIDTH - len(value)}}{value}"


def _amounts(
    lines: Iterable[InvoiceLine],
    subtotal: Money,
    discount: Money,
    vat: Iterable[VatLine],
    t: Words,
    *,
    delivery: Money,
) -> list[str]:
    """The lines, subtotal, discount, delivery and VAT per rate: the body an invoice and its
    credit note share, laid out the same way so that one reads against the other."""
    out = ["-" * WIDTH]
    for line in lines:
        out.append(line.name[:WIDTH])
        gross = line.unit_price * line.quantity  # the discount follows: lines add to subtotal
        out.append(_row(f"  {line.quantity} x {line.unit_price.format()}", gross.format()))
        if line.discount.amount:
            out.append(_row("  " + t("invoice.discount"), f"-{line.discount.format()}"))
    out.append("-" * WIDTH)
    out.append(_row(t("invoice.subtotal"), subtotal.format()))
    if discount.amount:
        out.append(_row(t("invoice.discount"), f"-{discount.format()}"))
    if delivery.amount:
        out.append(_row(t("invoice.delivery"), delivery.format()))
    for rate in vat:
        label = t("invoice.vat_line", rate=_pct(rate.rate), base=rate.base.format())
        out.append(_row(label, rate.tax.format()))
    return out


def render_text(invoice: Invoice, t: Words) -> str:
    """The invoice as a person reads it on paper, e-mail or WhatsApp: plain text, 40 columns."""
    out = [
        t("invoice.title", number=invoice.number),
        t("invoice.date", date=invoice.issued_on.isoformat()),
        t("invoice.order", reference=invoice.order_reference),
        t("invoice.customer", phone=invoice.customer.e164),
        *_amounts(
            invoice.lines,
            invoice.subtotal,
            invoice.discount,
            invoice.vat,
            t,
            delivery=invoice.delivery,
        ),
        _row(t("invoice.total"), invoice.total.format()),
    ]
    if invoice.due_on is not None:
        out.append(t("invoice.due", date=invoice.due_on.isoformat()))
    elif invoice.due_days_after_delivery is not None:
        out.append(t("invoice.due_after_delivery", days=invoice.due_days_after_delivery))
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


# --- credit notes ---------------------------------------------------------------------------
#
# An invoice is never edited: what the customer no longer owes (the order was cancelled, only
# part of it arrived, or what arrived was brought back) is credited by a credit note in its own
# gapless series per country and year, referencing the invoice, with its VAT broken out the
# same way.


class CreditReason(StrEnum):
    CANCELLED = "cancelled"  # the whole invoice
    UNDELIVERED = "undelivered"  # what did not arrive of a partly delivered order
    RETURNED = "returned"  # what was delivered, brought back after delivery


def credit_note_prefix(region_code: RegionCode, year: int) -> str:
    """'NG-CN-2026': its own series, beside the invoices' 'NG-2026'."""
    return f"{region(region_code).country}-CN-{year}"


@dataclass(frozen=True, slots=True)
class Credit:
    """The figures a credit note gives back: lines (quantities credited) and totals."""

    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money


@dataclass(frozen=True, slots=True)
class KeptLine:
    """What the customer keeps of an invoice line: the quantity delivered and its discount."""

    quantity: int
    discount: Money


def full_credit(invoice: Invoice) -> Credit:
    """Everything the invoice charged."""
    return Credit(invoice.lines, invoice.subtotal, invoice.discount, invoice.tax, invoice.total)


def shortfall_credit(
    invoice: Invoice,
    kept: Mapping[str, KeptLine],
    kept_totals: tuple[Money, Money, Money, Money],
) -> Credit | None:
    """What was invoiced but not delivered; None when everything arrived.

    Each line credits the missing quantity and the part of its discount that went with it; the
    totals are the invoice's less what the customer keeps (subtotal, discount, tax, total of
    the delivered order), so invoice minus credit note is exactly what is owed, to the cent.
    """
    lines = []
    for line in invoice.lines:
        have = kept.get(line.sku, KeptLine(line.quantity, line.discount))
        missing = line.quantity - have.quantity
        if missing > 0:
            lines.append(replace(line, quantity=missing, discount=line.discount - have.discount))
    if not lines:
        return None
    subtotal, discount, tax, total = kept_totals
    return Credit(
        tuple(lines),
        invoice.subtotal - subtotal,
        invoice.discount - discount,
        invoice.tax - tax,
        invoice.total - total,
    )


def returned_credit(
    invoice: Invoice,
    kept: Mapping[str, KeptLine],
    kept_totals: tuple[Money, Money, Money, Money],
) -> Credit | None:
    """What the customer had kept of the invoice (the delivered order), all brought back; None
    when she kept nothing. A short delivery's credit note took the rest already, so the two
    together credit the invoice exactly, whichever is issued first."""
    lines = []
    for line in invoice.lines:
        have = kept.get(line.sku, KeptLine(line.quantity, line.discount))
        if have.quantity > 0:
            lines.append(replace(line, quantity=have.quantity, discount=have.discount))
    subtotal, discount, tax, total = kept_totals
    if not lines and total.amount <= 0:
        return None
    return Credit(tuple(lines), subtotal, discount, tax, total)


@dataclass(frozen=True, slots=True)
class CreditNote:
    id: uuid.UUID
    number: str
    invoice_number: str
    region: RegionCode
    customer: Phone
    order_reference: str
    reason: CreditReason
    lines: tuple[InvoiceLine, ...]
    vat: tuple[VatLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    issued_at: datetime

    @property
    def issued_on(self) -> date:
        return local_date(self.region, self.issued_at)

    @property
    def delivery(self) -> Money:
        """The delivery fee credited (a cancelled order's; none for a short delivery)."""
        return self.total - self.tax - (self.subtotal - self.discount)


def render_credit_note_text(note: CreditNote, t: Words) -> str:
    """The credit note on paper, e-mail or WhatsApp: laid out as the invoice it corrects."""
    out = [
        t("credit_note.title", number=note.number),
        t("credit_note.invoice", number=note.invoice_number),
        t("invoice.date", date=note.issued_on.isoformat()),
        t("invoice.order", reference=note.order_reference),
        t("invoice.customer", phone=note.customer.e164),
        t(f"credit_note.reason.{note.reason.value}"),
        *_amounts(note.lines, note.subtotal, note.discount, note.vat, t, delivery=note.delivery),
        _row(t("credit_note.total"), note.total.format()),
    ]
    return "\n".join(out)


def credit_note_sms_values(note: CreditNote) -> dict[str, str]:
    """What the credit note's SMS (`credit_note.sms`) names: its number, the invoice it
    corrects, the order, the amount and its VAT."""
    return {
        "number": note.number,
        "invoice": note.invoice_number,
        "reference": note.order_reference,
        "total": note.total.format(),
        "vat": ", ".join(f"{_pct(v.rate)} {v.tax.format()}" for v in note.vat),
    }


def render_credit_note_sms(note: CreditNote, t: Words) -> str:
    """One SMS: the credit note's number, the invoice it corrects, the amount and its VAT."""
    return t("credit_note.sms", **credit_note_sms_values(note))
