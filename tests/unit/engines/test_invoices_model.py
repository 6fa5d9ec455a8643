"""Invoice VAT per rate, and the text and SMS a person reads (the real catalogues)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from core.i18n import Translator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices import Invoice, InvoiceLine, render_sms, render_text, vat_breakdown

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
