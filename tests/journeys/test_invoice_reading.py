"""A retailer reads her invoice in the app, an operator reads anyone's (GraphQL or the
terminal), and a stranger's guess at an invoice learns nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.cli import main
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from tests.support.credit import DELIVERED, credit_history
from tests.support.graphql import bearer, gql_session, run

Client = TestClient[web.Request, web.Application]
NGOZI = "+2348030000001"
BOLA = "+2348030000002"

INVOICE = """
    query Invoice($reference: String!) {
      invoice(reference: $reference) {
        __typename
        ... on Invoice {
          number orderReference customer issuedOn paymentMethod
          lines { sku name quantity unitPrice { amount currency } net { amount } vatRate }
          subtotal { amount } discount { amount } deliveryFee { amount currency }
          vat { rate base { amount } tax { amount } }
          tax { amount currency } total { amount currency } dueOn downloadUrl
          creditNotes { number reason total { amount } }
        }
        ... on NotFound { message reference }
      }
    }
    """


async def _ngozis_order(services: Services, key: str) -> str:
    order = await services.orders.place(
        PlaceOrder(
            Phone(NGOZI),
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ON_DELIVERY,
            key,
        )
    )
    await services.relay.drain()
    return order.reference


async def test_a_customer_reads_her_own_invoice_by_order_or_number(
    client: Client, services: Services
) -> None:
    assert services.money is not None
    reference = await _ngozis_order(services, "inv-read-1")
    order = await services.orders.get(reference)
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        by_order = (await run(session, INVOICE, {"reference": reference.lower()}))["invoice"]
        number = by_order["number"]
        by_number = (await run(session, INVOICE, {"reference": number}))["invoice"]

    assert by_order == by_number
    assert by_order["__typename"] == "Invoice"
    assert number == "NG-2026-000001"
    assert by_order["orderReference"] == reference
    assert by_order["customer"] == NGOZI
    assert by_order["paymentMethod"] == "ON_DELIVERY"
    [line] = by_order["lines"]
    assert (line["sku"], line["quantity"]) == ("NDL-INDO-CHK", 3)
    assert line["unitPrice"]["currency"] == "NGN"
    assert by_order["tax"] == {"amount": str(order.tax.amount), "currency": "NGN"}
    assert by_order["total"] == {"amount": str(order.total.amount), "currency": "NGN"}
    fee = order.delivery_fee.amount if order.delivery_fee is not None else 0
    assert by_order["deliveryFee"] == {"amount": str(fee), "currency": "NGN"}
    assert by_order["dueOn"] is None  # paid on delivery: nothing falls due
    assert by_order["downloadUrl"] is None
    assert by_order["creditNotes"] == []


async def test_another_customers_invoice_answers_as_a_missing_one(
    client: Client, services: Services
) -> None:
    reference = await _ngozis_order(services, "inv-read-2")
    invoice = await services.money.invoices.for_order(reference)  # type: ignore[union-attr]
    assert invoice is not None
    async with gql_session(client, bearer(services.settings, BOLA, "customer")) as session:
        stolen = (await run(session, INVOICE, {"reference": invoice.number}))["invoice"]
        missing = (await run(session, INVOICE, {"reference": "NG-2026-999999"}))["invoice"]
    assert stolen == {
        "__typename": "NotFound",
        "message": f"no invoice {invoice.number}",
        "reference": invoice.number,
    }
    assert missing == {
        "__typename": "NotFound",
        "message": "no invoice NG-2026-999999",
        "reference": "NG-2026-999999",
    }


async def test_an_operator_reads_any_invoice_with_its_credit_notes(
    client: Client, services: Services
) -> None:
    reference = await _ngozis_order(services, "inv-read-3")
    await services.orders.advance(reference, OrderStatus.CANCELLED)
    await services.relay.drain()
    async with gql_session(client, bearer(services.settings, "ops-1", "operator")) as session:
        seen = (await run(session, INVOICE, {"reference": reference}))["invoice"]
    assert seen["customer"] == NGOZI
    [note] = seen["creditNotes"]
    assert note["reason"] == "cancelled"
    assert note["number"].startswith("NG-CN-2026-")
    assert note["total"] == {"amount": seen["total"]["amount"]}


async def test_an_agent_reads_a_retailers_invoice_as_he_reads_her_orders(
    client: Client, services: Services
) -> None:
    reference = await _ngozis_order(services, "inv-read-agent")
    query = "query($r: String!) { order(reference: $r) { __typename } }"
    async with gql_session(client, bearer(services.settings, "agent-7", "agent")) as session:
        order = (await run(session, query, {"r": reference}))["order"]
        seen = (await run(session, INVOICE, {"reference": reference}))["invoice"]
    assert order == {"__typename": "Order"}
    assert seen["__typename"] == "Invoice"
    assert seen["customer"] == NGOZI
    assert seen["orderReference"] == reference


async def test_a_driver_whose_phone_bought_reads_no_invoice_as_a_driver(
    client: Client, services: Services
) -> None:
    reference = await _ngozis_order(services, "inv-read-driver")
    async with gql_session(client, bearer(services.settings, NGOZI, "driver")) as session:
        seen = (await run(session, INVOICE, {"reference": reference}))["invoice"]
    assert seen["__typename"] == "NotFound"


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    return database_url


async def test_an_operator_prints_an_invoice_in_the_terminal(
    services: Services, cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = await _ngozis_order(services, "inv-read-4")
    order = await services.orders.get(reference)

    assert await _cli(["invoices", "show", reference]) == 0
    text = capsys.readouterr().out
    assert text.startswith("INVOICE NG-2026-000001\n")
    assert f"Order: {reference}" in text
    assert order.total.format() in text

    assert await _cli(["invoices", "show", "NG-2026-000001", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["orderReference"] == reference
    assert shown["total"] == {"amount": str(order.total.amount), "currency": "NGN"}

    assert await _cli(["invoices", "show", "NG-2026-999999"]) == 2
    said = capsys.readouterr()
    assert said.out == ""
    assert said.err.startswith("omniroute invoices show: no invoice NG-2026-999999")


async def _cli(argv: list[str]) -> int:
    """The command runs its own event loop: off this test's loop, as from a terminal."""
    return await asyncio.to_thread(main, argv)


async def test_an_invoice_on_credit_is_due_its_term_after_delivery_then_on_a_date(
    client: Client,
    services: Services,
    clock: SteppedClock,
    cli_database: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert services.money is not None
    await credit_history(services, clock, NGOZI)
    await services.money.credit.decide(Phone(NGOZI))
    order = await services.orders.place(
        PlaceOrder(
            Phone(NGOZI),
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 1),),
            PaymentMethod.CREDIT,
            "inv-credit-1",
        )
    )
    await services.relay.drain()
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        waiting = (await run(session, DUE, {"reference": order.reference}))["invoice"]
        assert await _cli(["invoices", "show", order.reference]) == 0
        assert capsys.readouterr().out.endswith("Pay 7 days after delivery\n")
        for status in DELIVERED:
            await services.orders.advance(order.reference, status)
        await services.relay.drain()
        due = (await run(session, DUE, {"reference": order.reference}))["invoice"]
    assert waiting == {"paymentMethod": "CREDIT", "dueOn": None, "dueDaysAfterDelivery": 7}
    delivered_on = clock.now().astimezone(ZoneInfo("Africa/Lagos")).date()
    assert due == {
        "paymentMethod": "CREDIT",
        "dueOn": (delivered_on + timedelta(days=7)).isoformat(),
        "dueDaysAfterDelivery": None,
    }


DUE = """
    query Due($reference: String!) {
      invoice(reference: $reference) { ... on Invoice { paymentMethod dueOn dueDaysAfterDelivery } }
    }
    """


async def test_an_order_returned_after_delivery_reads_with_its_credit_note(
    client: Client, services: Services, cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Delivered, then brought back: the invoice read as sold and owed, with no credit note.
    The app and the terminal now show the note crediting it."""
    reference = await _ngozis_order(services, "inv-read-returned")
    for status in [*DELIVERED, OrderStatus.RETURNED]:
        await services.orders.advance(reference, status)
    await services.relay.drain()
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        seen = (await run(session, INVOICE, {"reference": reference}))["invoice"]
    [note] = seen["creditNotes"]
    assert note["reason"] == "returned"
    assert note["total"] == {"amount": seen["total"]["amount"]}

    assert await _cli(["invoices", "show", reference]) == 0
    text = capsys.readouterr().out
    assert f"CREDIT NOTE {note['number']}" in text
    assert "Returned after delivery: credited below" in text
