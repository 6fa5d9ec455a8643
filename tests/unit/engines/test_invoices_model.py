"""Invoice VAT per rate, and the text and SMS a person reads (the real catalogues)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.i18n import Translator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices import (
    CreditNote,
    CreditReason,
    Invoice,
    InvoiceLine,
    KeptLine,
    full_credit,
    render_credit_note_sms,
    render_credit_note_text,
    render_sms,
    render_text,
    shortfall_credit,
    vat_breakdown,
)
from engines.orders import Order, OrderLine, OrderStatus, PaymentMethod, split_delivery

NGOZI = Phone("+2348030000001")


def ngn(amount: str) -> Money:
    return Money(Decimal(amount), "NGN")


def test_vat_is_broken_out_per_rate_in_the_text_a_person_reads(translator: Translator) -> None:
    lines = (
        InvoiceLine("RIC-50", "Rice 50kg", 1, ngn("52000"), ngn("0"), Decimal("0")),
        InvoiceLine("DRK-COLA", "Cola 24x35cl", 2, ngn("4500"), ngn("450"), Decimal("0.075")),
    )
    vat = vat_breakdown(lines, "NGN")
    assert [(v.rate, v.base.amount, v.tax.amount) for v in vat] == [
        (Decimal("0.075"), Decimal("8550.00"), Decimal("641.25")),
        (Decimal("0"), Decimal("52000.00"), Decimal("0.00")),
    ]
    invoice = Invoice(
        uuid.uuid4(),
        "NG-2026-000123",
        RegionCode.LAGOS,
        NGOZI,
        "W62ACJ",
        lines,
        vat,
        ngn("61000"),
        ngn("450"),
        ngn("641.25"),
        ngn("61191.25"),
        "CREDIT",
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        date(2026, 3, 15),
    )
    text = render_text(invoice, lambda msgid, **kw: translator("en", msgid, **kw))
    assert text.splitlines()[:2] == ["INVOICE NG-2026-000123", "Date: 2026-03-01"]
    assert "VAT 7.5% on NGN 8,550.00" in text
    assert "VAT 0% on NGN 52,000.00" in text
    assert text.splitlines()[-2].endswith("NGN 61,191.25")
    assert text.splitlines()[-1] == "Pay by 2026-03-15"
    assert all(len(row) <= 40 for row in text.splitlines())
    sms = render_sms(invoice, lambda msgid, **kw: translator("sw", msgid, **kw))
    assert sms.startswith("Ankara NG-2026-000123 ya oda W62ACJ: jumla NGN 61,191.25")
    assert sms.endswith("Lipa kabla ya 2026-03-15.")


def test_the_printed_date_is_the_customers_day_as_the_number_year_is(
    translator: Translator,
) -> None:
    """Issued at 23:30 UTC on New Year's Eve, 00:30 in Lagos: numbered NG-2027 but dated
    2026-12-31 on paper."""
    invoice = replace(
        _invoice(), number="NG-2027-000001", issued_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    )
    text = render_text(invoice, lambda msgid, **kw: translator("en", msgid, **kw))
    assert text.splitlines()[:2] == ["INVOICE NG-2027-000001", "Date: 2027-01-01"]


def _invoice() -> Invoice:
    lines = (
        InvoiceLine("NDL-INDO-CHK", "Indomie 40x70g", 4, ngn("9300"), ngn("400"), Decimal("0.075")),
        InvoiceLine("DRK-COLA", "Cola 24x35cl", 2, ngn("4500"), ngn("0"), Decimal("0.075")),
    )
    return Invoice(
        uuid.uuid4(),
        "NG-2026-000123",
        RegionCode.LAGOS,
        NGOZI,
        "W62ACJ",
        lines,
        vat_breakdown(lines, "NGN"),
        ngn("46200"),
        ngn("400"),
        ngn("3435"),
        ngn("49235"),
        "ON_DELIVERY",
        datetime(2026, 3, 1, 10, tzinfo=UTC),
    )


def test_a_short_delivery_credits_the_missing_units_and_their_share_of_the_discount() -> None:
    invoice = _invoice()
    kept = {"NDL-INDO-CHK": KeptLine(1, ngn("100"))}  # one of four cartons arrived
    kept_totals = (ngn("18300"), ngn("100"), ngn("1365"), ngn("19565"))
    credit = shortfall_credit(invoice, kept, kept_totals)
    assert credit is not None
    assert [(li.sku, li.quantity, li.discount) for li in credit.lines] == [
        ("NDL-INDO-CHK", 3, ngn("300"))
    ]
    assert credit.total == invoice.total - ngn("19565")
    assert (credit.subtotal, credit.discount, credit.tax) == (ngn("27900"), ngn("300"), ngn("2070"))
    everything = {"NDL-INDO-CHK": KeptLine(4, ngn("400")), "DRK-COLA": KeptLine(2, ngn("0"))}
    whole = (invoice.subtotal, invoice.discount, invoice.tax, invoice.total)
    assert shortfall_credit(invoice, everything, whole) is None
    assert full_credit(invoice).total == invoice.total


def test_a_credit_note_reads_like_the_invoice_it_corrects(translator: Translator) -> None:
    invoice = _invoice()
    credit = full_credit(invoice)
    note = CreditNote(
        uuid.uuid4(),
        "NG-CN-2026-000007",
        invoice.number,
        RegionCode.LAGOS,
        NGOZI,
        "W62ACJ",
        CreditReason.CANCELLED,
        credit.lines,
        invoice.vat,
        credit.subtotal,
        credit.discount,
        credit.tax,
        credit.total,
        datetime(2026, 3, 2, 8, tzinfo=UTC),
    )
    text = render_credit_note_text(note, lambda msgid, **kw: translator("en", msgid, **kw))
    assert text.splitlines()[:3] == [
        "CREDIT NOTE NG-CN-2026-000007",
        "Credits invoice NG-2026-000123",
        "Date: 2026-03-02",
    ]
    assert "Order cancelled: the whole invoice" in text
    assert "VAT 7.5% on NGN 45,800.00" in text
    assert text.splitlines()[-1].startswith("Total credited")
    assert text.splitlines()[-1].endswith("NGN 49,235.00")
    assert all(len(row) <= 40 for row in text.splitlines())
    sms = render_credit_note_sms(note, lambda msgid, **kw: translator("sw", msgid, **kw))
    assert sms == (
        "Hati ya marejesho NG-CN-2026-000007 ya oda W62ACJ (ankara NG-2026-000123): "
        "NGN 49,235.00 imerejeshwa pamoja na VAT 7.5% NGN 3,435.00."
    )


@st.composite
def _orders(draw: st.DrawFn) -> tuple[Order, dict[str, int]]:
    """An order (whole-naira prices, discounts, maybe a delivery fee) and what arrived of it."""
    n = draw(st.integers(1, 4))
    lines = []
    delivered = {}
    for i in range(n):
        quantity = draw(st.integers(1, 50))
        price = draw(st.integers(1, 20_000))
        discount = draw(st.integers(0, price * quantity // 5))
        lines.append(
            OrderLine(f"SKU-{i}", f"Product {i}", quantity, ngn(str(price)), ngn(str(discount)))
        )
        delivered[f"SKU-{i}"] = draw(st.integers(0, quantity))
    fee = ngn(str(draw(st.sampled_from([0, 500, 1500]))))
    draft = Order(
        uuid.UUID(int=1),
        "W62ACJ",
        NGOZI,
        RegionCode.LAGOS,
        tuple(lines),
        ngn("0"),
        ngn("0"),
        ngn("0"),
        ngn("0"),
        PaymentMethod.ON_DELIVERY,
        OrderStatus.DISPATCHED,
        "k",
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        delivery_fee=fee,
    )
    subtotal, discount, tax, total = split_delivery(draft, {}, RATE).delivered_amounts
    return replace(draft, subtotal=subtotal, discount=discount, tax=tax, total=total), delivered


RATE = Decimal("0.075")


@given(_orders())
@settings(max_examples=200, deadline=None)
def test_invoice_less_credit_note_is_what_the_delivered_order_owes(
    case: tuple[Order, dict[str, int]],
) -> None:
    order, arrived = case
    invoice_lines = tuple(
        InvoiceLine(li.sku, li.name, li.quantity, li.unit_price, li.discount, RATE)
        for li in order.lines
    )
    invoice = Invoice(
        uuid.uuid4(),
        "NG-2026-000001",
        RegionCode.LAGOS,
        NGOZI,
        order.reference,
        invoice_lines,
        vat_breakdown(invoice_lines, "NGN"),
        order.subtotal,
        order.discount,
        order.tax,
        order.total,
        "ON_DELIVERY",
        order.created_at,
    )
    split = split_delivery(order, arrived, RATE)
    kept = {li.sku: KeptLine(li.delivered_quantity or 0, li.discount) for li in split.delivered}
    credit = shortfall_credit(invoice, kept, split.delivered_amounts)
    missing = {li.sku: li.quantity - arrived[li.sku] for li in order.lines}
    if not any(missing.values()):
        assert credit is None
        return
    assert credit is not None
    assert {li.sku: li.quantity for li in credit.lines} == {
        sku: q for sku, q in missing.items() if q
    }
    assert invoice.total - credit.total == split.delivered_amounts[3]
    assert credit.subtotal - credit.discount + credit.tax == credit.total  # the fee stays owed
    assert sum((li.net for li in credit.lines), ngn("0")) == credit.subtotal - credit.discount
    assert all(not li.net.is_negative for li in credit.lines)


def test_the_lines_of_an_invoice_add_up_to_its_subtotal(translator: Translator) -> None:
    """'4 x NGN 9,300.00 ... NGN 36,800.00' and 'Discount -NGN 400.00' under it: the discount
    came off twice on paper, and the lines fell NGN 400 short of the subtotal."""
    invoice = _invoice()
    text = render_text(invoice, lambda msgid, **kw: translator("en", msgid, **kw))
    rows = text.splitlines()
    assert f"{'  4 x NGN 9,300.00':<27}NGN 37,200.00" in rows
    assert f"{'  Discount':<29}-NGN 400.00" in rows
    assert f"{'  2 x NGN 4,500.00':<28}NGN 9,000.00" in rows
    assert invoice.subtotal == ngn("37200") + ngn("9000")
