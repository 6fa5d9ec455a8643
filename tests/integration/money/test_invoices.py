"""Invoices: one per order, numbered per country and year without gaps, VAT broken out."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core.app.bootstrap import Services
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices import (
    InvoiceLine,
    InvoiceService,
    IssueInvoice,
    issue_for_order,
    render_text,
)
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder

NGOZI = Phone("+2348030000001")


def ngn(amount: str) -> Money:
    return Money(Decimal(amount), "NGN")


def _command(reference: str, when: datetime | None = None) -> IssueInvoice:
    line = InvoiceLine("NDL-INDO-CHK", "Indomie", 2, ngn("9300"), ngn("0"), Decimal("0.075"))
    return IssueInvoice(
        region=RegionCode.LAGOS,
        customer=NGOZI,
        order_reference=reference,
        lines=(line,),
        subtotal=ngn("18600"),
        discount=ngn("0"),
        tax=ngn("1395"),
        total=ngn("19995"),
        payment_method="ON_DELIVERY",
        issued_at=when or datetime(2026, 3, 1, 10, tzinfo=UTC),
    )


async def test_a_placed_order_gets_an_invoice_with_its_vat_and_figures(
    services: Services, invoices: InvoiceService
) -> None:
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ON_DELIVERY,
            "inv-1",
        )
    )
    invoice = await invoices.issue(issue_for_order(order))
    assert invoice.number == "NG-2026-000001"
    assert invoice.total == order.total
    assert [(v.rate, v.base, v.tax) for v in invoice.vat] == [
        (Decimal("0.075"), order.subtotal - order.discount, order.tax)
    ]
    again = await invoices.issue(issue_for_order(order))
    assert again.number == invoice.number  # the same order never gets a second number
    assert (await invoices.get("ng-2026-000001")).order_reference == order.reference


async def test_numbers_have_no_gaps_under_concurrency(invoices: InvoiceService) -> None:
    refs = [f"R{i:04d}" for i in range(12)]
    issued = await asyncio.gather(
        *(invoices.issue(_command(ref)) for ref in refs),
        *(invoices.issue(_command(ref)) for ref in refs[:4]),  # retries racing the first
    )
    numbers = sorted({i.number for i in issued})
    assert numbers == [f"NG-2026-{n:06d}" for n in range(1, 13)]
    assert await invoices.numbers("NG-2026") == numbers


async def test_each_country_and_year_has_its_own_sequence(invoices: InvoiceService) -> None:
    a = await invoices.issue(_command("A1", datetime(2026, 12, 31, 22, 30, tzinfo=UTC)))
    b = await invoices.issue(_command("A2", datetime(2026, 12, 31, 23, 30, tzinfo=UTC)))
    kenyan = replace(_command("K1"), region=RegionCode.NAIROBI, customer=Phone("+254711000001"))
    c = await invoices.issue(kenyan)
    assert a.number == "NG-2026-000001"
    assert b.number == "NG-2027-000001"  # 00:30 on 1 January in Lagos
    assert c.number == "KE-2026-000001"


async def test_an_invoice_taxes_only_what_the_order_taxed_and_shows_the_delivery_fee(
    services: Services,
) -> None:
    """Bola's order: noodles (VAT), rice (exempt) and a delivery fee (VAT). The invoice said
    'VAT 7.5% on' noodles and rice together, left the fee out, and so did not add up."""
    assert services.money is not None
    order = await services.orders.place(
        PlaceOrder(
            Phone("+2348030000002"),
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 3), CartLine("RCE-LONG-25K", 1)),
            PaymentMethod.ON_DELIVERY,
            "inv-exempt",
        )
    )
    assert order.delivery_fee == ngn("1500")
    await services.relay.drain()
    invoice = await services.money.invoices.for_order(order.reference)
    assert invoice is not None

    noodles = next(li for li in order.lines if li.sku == "NDL-INDO-CHK").line_total
    rice = next(li for li in order.lines if li.sku == "RCE-LONG-25K").line_total
    assert [(v.rate, v.base, v.tax) for v in invoice.vat] == [
        (Decimal("0.075"), noodles + ngn("1500"), order.tax),
        (Decimal("0"), rice, ngn("0")),
    ]
    assert invoice.delivery == ngn("1500")
    text = render_text(invoice, lambda msgid, **kw: services.translate("en", msgid, **kw))
    assert f"{'Delivery':<28}NGN 1,500.00" in text.splitlines()
    assert invoice.subtotal - invoice.discount + invoice.delivery + invoice.tax == order.total

    await services.orders.advance(order.reference, OrderStatus.CANCELLED)
    await services.relay.drain()
    [note] = await services.money.invoices.credit_notes(order.reference)
    assert (note.vat, note.delivery, note.total) == (invoice.vat, invoice.delivery, invoice.total)
