"""An app browses, quotes and places orders over GraphQL with the gql client."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select, update

from core.app.bootstrap import Services
from core.app.demo import WHOLESALE
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders.tables import orders
from engines.pricing.tables import price_locks, prices, promotion_spend
from tests.support.graphql import bearer, gateway, gql_session, place_for, post_graphql, run
from tests.support.phone import UssdPhone

NGOZI = "+2348030000001"
BOLA = "+2348030000002"

PRODUCTS = """
    query Products($first: Int, $after: String, $search: String) {
      products(first: $first, after: $after, search: $search) {
        edges { cursor node { sku name price { amount currency } inStock } }
        pageInfo { hasNextPage endCursor }
        totalCount
      }
    }
    """

QUOTE = """
    query Quote($input: QuoteInput!) {
      quote(input: $input) {
        lines { sku quantity unitPrice { amount currency } discount { amount } }
        discount { amount currency } tax { amount currency } total { amount currency }
        errors { __typename ... on UserError { message } }
      }
    }
    """

PLACE = """
    mutation Place($input: PlaceOrderInput!) {
      placeOrder(input: $input) {
        order {
          reference status
          lines { sku name quantity unitPrice { amount currency } }
          total { amount currency }
          payment { method status }
        }
        errors {
          __typename
          ... on UserError { message }
          ... on OutOfStock { sku available }
        }
      }
    }
    """


async def test_anyone_browses_the_catalogue_page_by_page(
    client: TestClient[Any, Any],
) -> None:
    async with gql_session(client) as session:
        first = await run(session, PRODUCTS, {"first": 5})
        page = first["products"]
        assert len(page["edges"]) == 5
        assert page["pageInfo"]["hasNextPage"] is True
        assert page["totalCount"] >= 30
        node = page["edges"][0]["node"]
        assert node["price"]["currency"] == "NGN"
        assert "." in node["price"]["amount"]
        after = await run(session, PRODUCTS, {"first": 5, "after": page["pageInfo"]["endCursor"]})
    skus = {e["node"]["sku"] for e in page["edges"]}
    later = {e["node"]["sku"] for e in after["products"]["edges"]}
    assert skus.isdisjoint(later)


async def test_quote_over_graphql_is_the_engine_quote(
    client: TestClient[Any, Any], services: Services
) -> None:
    async with gql_session(client) as session:
        products = await run(session, PRODUCTS, {"first": 2})
        skus = [e["node"]["sku"] for e in products["products"]["edges"]]
        lines = [{"sku": skus[0], "quantity": 3}, {"sku": skus[1], "quantity": 12}]
        result = await run(session, QUOTE, {"input": {"customer": NGOZI, "lines": lines}})
    engine = await services.pricing.quote(
        RegionCode.LAGOS,
        [(skus[0], 3), (skus[1], 12)],
    )
    quote = result["quote"]
    assert quote["errors"] == []
    assert quote["total"] == {"amount": str(engine.total.amount), "currency": "NGN"}
    assert quote["tax"]["amount"] == str(engine.tax.amount)


async def test_a_promo_code_that_does_not_exist_is_a_typed_error(
    client: TestClient[Any, Any],
) -> None:
    async with gql_session(client) as session:
        result = await run(
            session,
            QUOTE,
            {
                "input": {
                    "customer": NGOZI,
                    "lines": [{"sku": "NDL-INDO-CHK", "quantity": 1}],
                    "promoCode": "FREEBIES",
                }
            },
        )
    assert result["quote"]["total"] is None
    assert [e["__typename"] for e in result["quote"]["errors"]] == ["InvalidVoucher"]


async def test_a_wholesale_customer_with_a_promo_code_gets_the_price_every_channel_gives(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The customer's own segment prices, delivery zone and WELCOME: one price everywhere."""
    wholesale = WHOLESALE[RegionCode.LAGOS]
    lines = [("NDL-INDO-CHK", 6), ("DRK-COLA-35", 11)]
    async with gql_session(client, bearer(services.settings, wholesale, "customer")) as session:
        result = await run(
            session,
            QUOTE,
            {
                "input": {
                    "customer": wholesale,
                    "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
                    "promoCode": "welcome ",
                }
            },
        )
    engine = await services.pricing.quote(
        RegionCode.LAGOS, lines, customer=Phone(wholesale), voucher="WELCOME"
    )
    anonymous = await services.pricing.quote(RegionCode.LAGOS, lines)
    quote = result["quote"]
    assert quote["errors"] == []
    assert quote["total"] == {"amount": str(engine.total.amount), "currency": "NGN"}
    assert quote["discount"]["amount"] == str(engine.discount.amount)
    assert engine.total != anonymous.total  # the customer's terms really changed the price


async def test_a_quote_shows_a_retailers_contract_price_only_to_her_and_staff(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Mr Botha's negotiated rice price is his: a stranger who knows his number, or another
    retailer signed in, is quoted the public price list, as a new customer would be."""
    botha = WHOLESALE[RegionCode.CAPE_TOWN]
    lines = [("RCE-LONG-25K", 3)]
    document = """query($input: QuoteInput!) { quote(input: $input) {
      lines { unitPrice { amount currency } } total { amount currency } errors { __typename } } }"""
    variables = {"input": {"customer": botha, "lines": [{"sku": "RCE-LONG-25K", "quantity": 3}]}}
    signed_in = {
        "anyone": None,
        "another retailer": bearer(services.settings, "+27821000001", "customer"),
        "botha": bearer(services.settings, botha, "customer"),
        "an operator": bearer(services.settings, "ops-1", "operator"),
        "an agent": bearer(services.settings, "agent-7", "agent"),
    }
    quoted = {}
    for who, headers in signed_in.items():
        async with gql_session(client, headers) as session:
            quoted[who] = (await run(session, document, variables))["quote"]
    public = await services.pricing.quote(RegionCode.CAPE_TOWN, lines)
    his = await services.pricing.quote(RegionCode.CAPE_TOWN, lines, customer=Phone(botha))
    assert his.lines[0].unit_price != public.lines[0].unit_price  # the contract really differs
    for who in ("anyone", "another retailer"):
        assert quoted[who]["errors"] == [], who
        assert quoted[who]["lines"][0]["unitPrice"]["amount"] == str(
            public.lines[0].unit_price.amount
        ), who
        assert quoted[who]["total"] == {"amount": str(public.total.amount), "currency": "ZAR"}
    for who in ("botha", "an operator", "an agent"):
        assert quoted[who]["lines"][0]["unitPrice"]["amount"] == str(
            his.lines[0].unit_price.amount
        ), who
        assert quoted[who]["total"] == {"amount": str(his.total.amount), "currency": "ZAR"}


async def test_customer_places_an_order_once_per_idempotency_key(
    client: TestClient[Any, Any], services: Services
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        products = await run(session, PRODUCTS, {"first": 1})
        sku = products["products"]["edges"][0]["node"]["sku"]
        order_input = {
            "customer": NGOZI,
            "lines": [{"sku": sku, "quantity": 2}],
            "payment": {"method": "ON_DELIVERY"},
            "idempotencyKey": "app-attempt-0001",
        }
        first = await run(session, PLACE, {"input": order_input})
        again = await run(session, PLACE, {"input": order_input})
    order = first["placeOrder"]["order"]
    assert first["placeOrder"]["errors"] == []
    assert order["status"] == "PLACED"
    assert order["payment"] == {"method": "ON_DELIVERY", "status": "PENDING"}
    assert order["lines"][0]["sku"] == sku
    assert order["lines"][0]["quantity"] == 2
    assert again["placeOrder"]["order"]["reference"] == order["reference"]
    assert len(await services.orders.recent(Phone(NGOZI))) == 1


async def test_a_document_of_several_operations_without_a_name_runs_none(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's app sent its whole file of operations, the order first, without saying which
    to run: the first ran, and an order she never meant was placed. Now it is refused, over
    HTTP and on the socket, saying operationName is required, and nothing is placed; naming
    the operation runs it alone."""
    headers = bearer(services.settings, NGOZI, "customer")
    place = {
        "customer": NGOZI,
        "lines": [{"sku": "NDL-INDO-CHK", "quantity": 1}],
        "payment": {"method": "ON_DELIVERY"},
        "idempotencyKey": "app-file-0001",
    }
    document = PLACE + PRODUCTS.replace("query Products", "query Browse")
    variables = {"input": place, "first": 1}
    status, body = await post_graphql(client, document, variables, headers)
    assert (status, body["data"]) == (200, None)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "operationName is required" in error["message"]
    async with client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": headers})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        payload = {"query": document, "variables": variables}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        refused = await ws.receive_json(timeout=5)
        assert (refused["type"], refused["payload"][0]["extensions"]["code"]) == (
            "error",
            "GRAPHQL_VALIDATION_FAILED",
        )
        assert await services.orders.recent(Phone(NGOZI)) == []
        named = {**payload, "operationName": "Browse"}
        await ws.send_json({"id": "2", "type": "subscribe", "payload": named})
        answer = await ws.receive_json(timeout=5)
    assert len(answer["payload"]["data"]["products"]["edges"]) == 1
    assert await services.orders.recent(Phone(NGOZI)) == []


async def test_a_request_graphql_cannot_read_is_a_400_an_app_can_parse(
    client: TestClient[Any, Any],
) -> None:
    """Broken JSON, no query, a batch or a form: each 400 came as plain text, which an app's
    GraphQL client (Apollo, gql, urql parse JSON) reported as a network failure. Each is now
    the same 400 holding a GraphQL error with the reason and BAD_REQUEST."""
    json_type = {"Content-Type": "application/json"}
    for request, reason in (
        ({"data": '{"query": "{ categories', "headers": json_type}, "parse request body as JSON"),
        ({"json": {"variables": {}}}, "No GraphQL query"),
        ({"json": [{"query": "{ __typename }"}, {"query": "{ __typename }"}]}, "Batching"),
        ({"data": "{ __typename }", "headers": {"Content-Type": "text/plain"}}, "content type"),
    ):
        response = await client.post("/graphql", **request)
        assert (response.status, response.content_type) == (400, "application/json"), reason
        (error,) = (await response.json())["errors"]
        assert error["extensions"] == {"code": "BAD_REQUEST"}
        assert reason in error["message"]


async def test_a_refused_socket_or_method_is_a_graphql_error_an_app_can_parse(
    client: TestClient[Any, Any],
) -> None:
    """A socket from another site's page (403) and a PUT or DELETE (405) came as plain text,
    which an app's GraphQL client reported as a network failure; each is now the same status
    with a GraphQL error and its code, and the 405 keeps its Allow header."""
    handshake = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "graphql-transport-ws",
        "Origin": "https://elsewhere.example",
    }
    forbidden = await client.get("/graphql", headers=handshake)
    assert (forbidden.status, forbidden.content_type) == (403, "application/json")
    (error,) = (await forbidden.json())["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN"}
    put = await client.put("/graphql", json={"query": "{ __typename }"})
    assert (put.status, put.content_type) == (405, "application/json")
    assert {m.strip() for m in put.headers["Allow"].split(",")} == {"GET", "POST"}
    (error,) = (await put.json())["errors"]
    assert error["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert "GET" in error["message"]


async def test_ordering_more_than_the_shelf_holds_is_a_typed_out_of_stock(
    client: TestClient[Any, Any], services: Services
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        products = await run(session, PRODUCTS, {"first": 1})
        sku = products["products"]["edges"][0]["node"]["sku"]
        result = await run(
            session,
            PLACE,
            {
                "input": {
                    "customer": NGOZI,
                    "lines": [{"sku": sku, "quantity": 9999}],
                    "payment": {"method": "ON_DELIVERY"},
                    "idempotencyKey": "too-many-0001",
                }
            },
        )
    assert result["placeOrder"]["order"] is None
    (error,) = result["placeOrder"]["errors"]
    assert error["__typename"] == "OutOfStock"
    assert error["sku"] == sku


async def test_payment_methods_not_yet_offered_and_bad_payer_phones_are_typed_errors(
    client: TestClient[Any, Any], services: Services
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    base = {
        "customer": NGOZI,
        "lines": [{"sku": "NDL-INDO-CHK", "quantity": 1}],
        "idempotencyKey": "payment-0001",
    }
    async with gql_session(client, headers) as session:
        mpesa = await run(session, PLACE, {"input": {**base, "payment": {"method": "MPESA"}}})
        bad_payer = await run(
            session,
            PLACE,
            {"input": {**base, "payment": {"method": "ON_DELIVERY", "phone": "12"}}},
        )
    assert [e["__typename"] for e in mpesa["placeOrder"]["errors"]] == ["PaymentMethodUnavailable"]
    assert [e["__typename"] for e in bad_payer["placeOrder"]["errors"]] == ["InvalidCustomer"]
    assert await services.orders.recent(Phone(NGOZI)) == []


ORDER_PAGE = """query($after: String) { orders(first: 2, after: $after) {
  edges { node { reference } } pageInfo { hasNextPage endCursor } } }"""


async def test_a_customer_pages_through_their_orders_newest_first(
    client: TestClient[Any, Any], services: Services
) -> None:
    placed = [await place_for(services, NGOZI, f"paging-{n:04d}") for n in range(5)]
    headers = bearer(services.settings, NGOZI, "customer")
    seen: list[str] = []
    after = None
    async with gql_session(client, headers) as session:
        while True:
            page = (await run(session, ORDER_PAGE, {"after": after}))["orders"]
            seen += [e["node"]["reference"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(placed)
    assert len(seen) == 5


async def test_graphql_quotes_the_total_the_ussd_cart_shows(
    client: TestClient[Any, Any], ngozi: UssdPhone
) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1")
    added = await ngozi.press("3")
    assert added.lines[0] == "Added 3 x Indomie Chicken 40x70g."
    welcome_back = await ngozi.dial()  # a new call offers the cart with its total
    ussd_total = next(line for line in welcome_back.lines if "NGN" in line)
    async with gql_session(client) as session:
        result = await run(
            session,
            QUOTE,
            {"input": {"customer": NGOZI, "lines": [{"sku": "NDL-INDO-CHK", "quantity": 3}]}},
        )
    total = result["quote"]["total"]
    assert total == {"amount": "26993.25", "currency": "NGN"}
    assert f"NGN {Decimal(total['amount']):,}" in ussd_total


async def test_an_undiscounted_cart_shows_its_zero_discount_in_minor_units(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Money is a decimal string in the currency's minor unit: "0.00" NGN, not "0"."""
    lines = [{"sku": "RCE-BASM-10K", "quantity": 1}]
    place = """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) {
      order { lines { discount { amount } } discount { amount } } errors { __typename } } }"""
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        quoted = await run(session, QUOTE, {"input": {"customer": NGOZI, "lines": lines}})
        placed = await run(
            session,
            place,
            {
                "input": {
                    "customer": NGOZI,
                    "lines": lines,
                    "payment": {"method": "ON_DELIVERY"},
                    "idempotencyKey": "no-discount-0001",
                }
            },
        )
    quote = quoted["quote"]
    assert quote["errors"] == []
    assert quote["lines"][0]["discount"] == {"amount": "0.00"}
    assert quote["discount"] == {"amount": "0.00", "currency": "NGN"}
    order = placed["placeOrder"]["order"]
    assert order["lines"][0]["discount"] == {"amount": "0.00"}
    assert order["discount"] == {"amount": "0.00"}


async def test_an_idempotency_key_reused_for_another_cart_places_nothing_and_says_so(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A retry gets its order back; a new cart under an old key is refused, not answered with
    the old order as if the new cart had been ordered."""
    first_cart = {
        "customer": NGOZI,
        "lines": [{"sku": "RCE-BASM-10K", "quantity": 1}],
        "payment": {"method": "ON_DELIVERY"},
        "idempotencyKey": "reused-key-0001",
    }
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        first = await run(session, PLACE, {"input": first_cart})
        retry = await run(session, PLACE, {"input": first_cart})
        other = await run(
            session,
            PLACE,
            {"input": {**first_cart, "lines": [{"sku": "NDL-INDO-CHK", "quantity": 5}]}},
        )
        promo = await run(
            session,
            PLACE,
            {"input": {**first_cart, "promoCode": "WELCOME"}},
        )
    reference = first["placeOrder"]["order"]["reference"]
    assert retry["placeOrder"]["order"]["reference"] == reference
    for refused in (other, promo):
        assert refused["placeOrder"]["order"] is None
        (error,) = refused["placeOrder"]["errors"]
        assert error["__typename"] == "InvalidIdempotencyKey"
        assert reference in error["message"]
    assert [o.reference for o in await services.orders.recent(Phone(NGOZI))] == [reference]


async def test_a_promo_code_on_top_of_the_weeks_offer_shows_as_its_own_discount(
    client: TestClient[Any, Any],
) -> None:
    """Noodle week (10 %) and WELCOME (5 % of the rest): two discounts, each its own saving."""
    document = """query Quote($input: QuoteInput!) { quote(input: $input) {
      discounts { sku promotion { id } amount { amount currency } }
      discount { amount } errors { __typename } } }"""
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}]
    async with gql_session(client) as session:
        result = await run(
            session,
            document,
            {"input": {"customer": NGOZI, "lines": lines, "promoCode": "welcome"}},
        )
    quote = result["quote"]
    assert quote["errors"] == []
    assert quote["discounts"] == [
        {
            "sku": "NDL-INDO-CHK",
            "promotion": {"id": "NOODLE-WEEK-LAGOS"},
            "amount": {"amount": "2790.00", "currency": "NGN"},
        },
        {
            "sku": "NDL-INDO-CHK",
            "promotion": {"id": "WELCOME-LAGOS"},
            "amount": {"amount": "1255.50", "currency": "NGN"},
        },
    ]
    assert quote["discount"] == {"amount": "4045.50"}


async def test_a_quote_and_its_order_show_the_delivery_fee_the_total_includes(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Bola pays delivery to her zone: subtotal - discount + delivery + VAT = total, to the cent,
    on the quote and on the order placed from it."""
    bola = "+2348030000002"
    money = "subtotal { amount } discount { amount } delivery { amount currency } tax { amount } "
    money += "total { amount }"
    quote_doc = f"query($input: QuoteInput!) {{ quote(input: $input) {{ {money} }} }}"
    place_doc = f"""mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{
      order {{ {money} }} errors {{ __typename }} }} }}"""
    lines = [{"sku": "RCE-BASM-10K", "quantity": 1}]
    async with gql_session(client, bearer(services.settings, bola, "customer")) as session:
        quoted = (await run(session, quote_doc, {"input": {"customer": bola, "lines": lines}}))[
            "quote"
        ]
        placed = await run(
            session,
            place_doc,
            {
                "input": {
                    "customer": bola,
                    "lines": lines,
                    "payment": {"method": "ON_DELIVERY"},
                    "idempotencyKey": "bola-delivery-0001",
                }
            },
        )
    engine = await services.pricing.quote(
        RegionCode.LAGOS, [("RCE-BASM-10K", 1)], customer=Phone(bola)
    )
    assert engine.delivery.amount > 0  # the demo puts Bola in a zone with a fee
    assert quoted["delivery"] == {"amount": str(engine.delivery.amount), "currency": "NGN"}
    order = placed["placeOrder"]["order"]
    assert order == quoted
    parts = [Decimal(quoted[k]["amount"]) for k in ("subtotal", "discount", "delivery", "tax")]
    assert parts[0] - parts[1] + parts[2] + parts[3] == Decimal(quoted["total"]["amount"])


async def test_first_zero_is_an_empty_page_and_a_negative_first_a_clear_error(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Relay's connection rules: `first: 0` asks for no edges (an app counting the shelf), and
    `first: -1` is the caller's mistake, not a request for one product."""
    await place_for(services, NGOZI, "first-zero-0001")
    count = "query($first: Int) { products(first: $first) { edges { cursor } totalCount "
    count += "pageInfo { hasNextPage } } }"
    mine = "query($first: Int) { orders(first: $first) { edges { cursor } } }"
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        empty = (await run(session, count, {"first": 0}))["products"]
        no_orders = (await run(session, mine, {"first": 0}))["orders"]
    assert empty["edges"] == []
    assert empty["totalCount"] >= 30
    assert empty["pageInfo"]["hasNextPage"] is True
    assert no_orders["edges"] == []
    for document in (count, mine):
        status, body = await post_graphql(client, document, {"first": -1}, headers)
        assert status == 200
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "first" in error["message"]


async def test_a_query_of_the_wrong_shape_or_types_says_so_in_a_code(
    client: TestClient[Any, Any], services: Services
) -> None:
    """An app sent a quantity past 32 bits, a string where an Int goes, a field the schema has
    not and a query cut short: each answer had a message and no `extensions.code`, so the app's
    error handling (which switches on the code) showed "something went wrong". Each now names
    its kind, and nothing is placed."""
    headers = bearer(services.settings, NGOZI, "customer")
    huge = """mutation { placeOrder(input: {customer: "+2348030000001",
      lines: [{sku: "NDL-INDO-CHK", quantity: 99999999999}], payment: {method: ON_DELIVERY},
      idempotencyKey: "app-huge-0001"}) { order { reference } } }"""
    place = {
        "customer": NGOZI,
        "lines": [{"sku": "NDL-INDO-CHK", "quantity": "3"}],
        "payment": {"method": "ON_DELIVERY"},
        "idempotencyKey": "app-type-0001",
    }
    for (document, variables), code in (
        ((huge, {}), "GRAPHQL_VALIDATION_FAILED"),
        ((PLACE, {"input": place}), "BAD_USER_INPUT"),
        (("{ products(first: 1) { edges { node { colour } } } }", {}), "GRAPHQL_VALIDATION_FAILED"),
        (("{ products(first: 1) { edges { node ", {}), "GRAPHQL_PARSE_FAILED"),
    ):
        status, body = await post_graphql(client, document, variables, headers)
        assert status == 200
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    assert await services.orders.recent(Phone(NGOZI)) == []


@pytest.mark.real
async def test_text_holding_a_nul_character_is_bad_input_on_postgresql(
    pg_database_url: str, clock: SteppedClock
) -> None:
    """An app sent a reference, an idempotency key or a search holding U+0000 (a C string's end
    copied along): PostgreSQL cannot compare or store such text, so Ngozi's app got an
    INTERNAL_SERVER_ERROR (logged as ours) for her order, her cancel and her new order. Each is
    now BAD_USER_INPUT saying why, and nothing is placed."""
    settings = Settings(database_url=pg_database_url, temporal="off")
    async with gateway(settings, clock) as (client, services):
        headers = bearer(settings, NGOZI, "customer")
        reference = await place_for(services, NGOZI, "k-nul-0001")
        place = {
            "customer": NGOZI,
            "lines": [{"sku": "NDL-INDO-CHK", "quantity": 1}],
            "payment": {"method": "ON_DELIVERY"},
            "idempotencyKey": "app-key-\u0000-0001",
        }
        for document, variables in (
            ("query($r: String!) { order(reference: $r) { __typename } }", {"r": "AB\u0000C"}),
            (
                "mutation($r: String!) { cancelOrder(reference: $r) { errors { __typename } } }",
                {"r": f"{reference}\u0000"},
            ),
            (PLACE, {"input": place}),
            ('{ order(reference: "AB\\u0000C") { __typename } }', {}),
        ):
            status, body = await post_graphql(client, document, variables, headers)
            assert status == 200
            assert body["data"] is None
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            assert "NUL" in error["message"]
        async with services.db.transaction() as s:
            placed = (await s.execute(select(func.count()).select_from(orders))).scalar_one()
        assert placed == 1  # place_for's own
        assert (await services.orders.get(reference)).status.value == "placed"


async def test_a_signed_in_wholesale_customer_browses_at_the_prices_ussd_shows_her(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Bola buys drinks at wholesale: the app's catalogue shows her that price, as her USSD
    product list does, not the list price her quote would then contradict."""
    bola = WHOLESALE[RegionCode.LAGOS]
    document = """query { products(search: "Cola 24") { edges { node { sku price {
      amount currency } } } } }"""
    async with gql_session(client) as anonymous:
        listed = (await run(anonymous, document))["products"]["edges"][0]["node"]
    async with gql_session(client, bearer(services.settings, bola, "customer")) as session:
        hers = (await run(session, document))["products"]["edges"][0]["node"]
    sku = hers["sku"]
    ussd = (await services.pricing.list_prices(RegionCode.LAGOS, [sku], customer=Phone(bola)))[sku]
    quote = await services.pricing.quote(RegionCode.LAGOS, [(sku, 1)], customer=Phone(bola))
    assert hers["price"] == {"amount": str(ussd.amount), "currency": "NGN"}
    assert hers["price"]["amount"] == str(quote.lines[0].unit_price.amount)
    assert hers["price"] != listed["price"]  # her segment price really differs


async def test_a_double_tap_with_a_once_per_customer_code_places_one_order_and_refuses_the_rest(
    client: TestClient[Any, Any], services: Services
) -> None:
    """WELCOME is once per customer. Taps racing with different keys all quote it; the first
    to be placed spends it and the others get a typed refusal, never an internal error."""
    headers = bearer(services.settings, NGOZI, "customer")
    document = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
      order { reference } errors { __typename ... on InvalidVoucher { code message } } } }"""

    async def tap(n: int) -> tuple[int, dict[str, Any]]:
        order_input = {
            "customer": NGOZI,
            "lines": [{"sku": "NDL-INDO-CHK", "quantity": 3}],
            "payment": {"method": "ON_DELIVERY"},
            "promoCode": "WELCOME",
            "idempotencyKey": f"double-tap-{n:04d}",
        }
        return await post_graphql(client, document, {"input": order_input}, headers)

    answers = await asyncio.gather(*(tap(n) for n in range(6)))
    for status, body in answers:
        assert status == 200
        assert "errors" not in body, body
    payloads = [body["data"]["placeOrder"] for _status, body in answers]
    placed = [p["order"]["reference"] for p in payloads if p["order"] is not None]
    refused = [e for p in payloads for e in p["errors"]]
    assert len(placed) == 1
    assert len(refused) == 5
    assert {(e["__typename"], e["code"]) for e in refused} == {("InvalidVoucher", "WELCOME")}
    assert "used up" in refused[0]["message"]


async def test_the_quote_names_promotions_in_the_language_the_customer_chose(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Juma chose English on USSD: the app's quote says 'Noodle week', not Swahili. Ngozi chose
    Hausa: hers says 'Makon taliya' (the demo's promotions were named in English for her)."""
    juma = "+254711000001"
    document = """query($input: QuoteInput!) { quote(input: $input) {
      lines { promotion { id name } } discounts { promotion { name } } } }"""
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}]
    async with gql_session(client) as session:
        before = await run(session, document, {"input": {"customer": juma, "lines": lines}})
        await services.customers.set_locale(Phone(juma), "en")
        after = await run(session, document, {"input": {"customer": juma, "lines": lines}})
        await services.customers.set_locale(Phone(NGOZI), "ha")
        hausa = await run(session, document, {"input": {"customer": NGOZI, "lines": lines}})
    assert before["quote"]["lines"][0]["promotion"]["name"] == "Wiki ya tambi"
    assert after["quote"]["lines"][0]["promotion"]["name"] == "Noodle week"
    assert after["quote"]["discounts"][0]["promotion"]["name"] == "Noodle week"
    assert hausa["quote"]["lines"][0]["promotion"]["name"] == "Makon taliya"


async def test_the_last_free_delivery_of_a_budget_goes_to_one_order_the_other_is_told_to_requote(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Free delivery has a budget; with one delivery left, two of Bola's orders race for it.
    One gets it, the other is PromotionUsedUp and nothing is placed at a price not quoted."""
    bola = WHOLESALE[RegionCode.LAGOS]
    book = await services.pricing.book(RegionCode.LAGOS)
    [free] = [p for p in book.promotions if p.id == "FREE-DELIVERY-LAGOS"]
    assert free.budget is not None
    async with services.db.transaction() as s:
        await s.execute(
            promotion_spend.insert().values(promotion_id=free.id, spent=free.budget - 1500)
        )
    document = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
      order { reference delivery { amount } }
      errors { __typename ... on PromotionUsedUp { promotion message } } } }"""
    headers = bearer(services.settings, bola, "customer")

    async def tap(n: int) -> tuple[int, dict[str, Any]]:
        order_input = {
            "customer": bola,
            "lines": [{"sku": "RCE-BASM-10K", "quantity": 4}],  # over half the free-from value
            "payment": {"method": "ON_DELIVERY"},
            "idempotencyKey": f"last-free-{n:04d}",
        }
        return await post_graphql(client, document, {"input": order_input}, headers)

    answers = await asyncio.gather(tap(1), tap(2))
    for status, body in answers:
        assert status == 200
        assert "errors" not in body, body
    payloads = [body["data"]["placeOrder"] for _status, body in answers]
    placed = [p["order"] for p in payloads if p["order"] is not None]
    refused = [e for p in payloads for e in p["errors"]]
    assert [o["delivery"] for o in placed] == [{"amount": "0.00"}]
    assert [(e["__typename"], e["promotion"]) for e in refused] == [
        ("PromotionUsedUp", "FREE-DELIVERY-LAGOS")
    ]
    assert len(await services.orders.recent(Phone(bola))) == 1


CATEGORIES = """
    query Categories($region: Region) {
      categories(region: $region) { id name region productCount }
    }
    """

IN_CATEGORY = """
    query InCategory($category: String) {
      products(category: $category, first: 100) {
        edges { node { sku category } }
        totalCount
      }
    }
    """


async def test_an_app_lists_the_categories_whose_ids_filter_the_products(
    client: TestClient[Any, Any], services: Services
) -> None:
    """No token needed: each category's id narrows `products` to that shelf, and its count is
    what the shelf holds; together they cover the whole catalogue."""
    async with gql_session(client) as session:
        categories = (await run(session, CATEGORIES))["categories"]
        everything = (await run(session, IN_CATEGORY))["products"]
        shelves = {
            c["id"]: (await run(session, IN_CATEGORY, {"category": c["id"]}))["products"]
            for c in categories
        }
    shelf = await services.catalogue.shelf(RegionCode.LAGOS)
    assert len(categories) >= 5
    assert {c["region"] for c in categories} == {"LAGOS"}
    assert categories[0] == {
        "id": "noodles",
        "name": "Noodles & Pasta",
        "region": "LAGOS",
        "productCount": len(shelf.in_category("noodles")),
    }
    for category in categories:
        listed = shelves[category["id"]]
        skus = {e["node"]["sku"] for e in listed["edges"]}
        assert skus == {p.sku for p in shelf.in_category(category["id"])}
        assert {e["node"]["category"] for e in listed["edges"]} == {category["id"]}
        assert listed["totalCount"] == category["productCount"] > 0
    assert sum(c["productCount"] for c in categories) == everything["totalCount"]


async def test_a_nairobi_customer_gets_the_categories_in_swahili_in_the_order_ussd_lists_them(
    client: TestClient[Any, Any], services: Services, juma: UssdPhone
) -> None:
    """Juma's USSD menu lists the shelves in Swahili, in the shop's order (not alphabetical);
    his app shows the same names in the same order, and in English once he chooses it."""
    await juma.dial()
    first = await juma.press("1")
    assert "Chagua aina:" in first
    ussd = [
        label
        for page in await juma.page_through()
        for key, label in page.options
        if key not in {"98", "0"}
    ]
    headers = bearer(services.settings, "+254711000001", "customer")
    async with gql_session(client, headers) as session:
        swahili = (await run(session, CATEGORIES))["categories"]
        await services.customers.set_locale(Phone("+254711000001"), "en")
        english = (await run(session, CATEGORIES))["categories"]
    async with gql_session(client) as anonymous:
        browsed = (await run(anonymous, CATEGORIES, {"region": "NAIROBI"}))["categories"]
    assert [c["name"] for c in swahili] == ussd
    assert ussd[:2] == ["Tambi na Pasta", "Mchele na Nafaka"]
    assert ussd != sorted(ussd)
    assert {c["region"] for c in swahili} == {"NAIROBI"}
    assert [c["name"] for c in english][:2] == ["Noodles & Pasta", "Rice & Grains"]
    assert [c["id"] for c in english] == [c["id"] for c in swahili]
    assert browsed == swahili  # an anonymous app browsing Nairobi reads it in Swahili too


async def test_a_product_withdrawn_after_the_quote_is_a_typed_error_naming_it_not_an_order(
    client: TestClient[Any, Any], services: Services
) -> None:
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}, {"sku": "NDL-SPAG-500", "quantity": 5}]
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        quoted = await run(session, QUOTE, {"input": {"customer": NGOZI, "lines": lines}})
        assert quoted["quote"]["errors"] == []
        async with services.db.transaction() as s:
            await s.execute(
                delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
            )
        services.pricing.forget()
        order_input = {
            "customer": NGOZI,
            "lines": lines,
            "payment": {"method": "ON_DELIVERY"},
            "idempotencyKey": "withdrawn-0001",
        }
        result = await run(session, PLACE, {"input": order_input})
        requoted = await run(session, QUOTE, {"input": {"customer": NGOZI, "lines": lines[1:]}})

    assert result["placeOrder"]["order"] is None
    (error,) = result["placeOrder"]["errors"]
    assert error == {"__typename": "UnknownProduct", "message": "no product NDL-INDO-CHK"}
    assert await services.orders.recent(Phone(NGOZI)) == []
    assert Decimal(requoted["quote"]["total"]["amount"]) < Decimal(
        quoted["quote"]["total"]["amount"]
    )


async def test_search_finds_products_by_their_words_in_the_callers_language_and_english(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Juma searches his app as he types his orders: "mchele" finds the rices for him (and
    for anyone browsing Nairobi), "coke" the cola, "chicken indomie" and "basmati mchele" the
    one product their words name, whatever their order; an English speaker's "mchele" finds
    none."""
    juma = "+254711000001"
    document = """query($s: String, $r: Region) {
      products(search: $s, region: $r) { edges { node { sku name } } totalCount } }"""

    def skus(result: dict[str, Any]) -> list[str]:
        return [e["node"]["sku"] for e in result["products"]["edges"]]

    async with gql_session(client, bearer(services.settings, juma, "customer")) as session:
        rice = await run(session, document, {"s": "Mchele"})
        coke = await run(session, document, {"s": "coke"})
        # As his SMS "5 chicken indomie" finds it: the words in any order and spacing.
        chicken = await run(session, document, {"s": "chicken  indomie"})
        basmati = await run(session, document, {"s": "basmati mchele"})
        await services.customers.set_locale(Phone(juma), "en")
        english = await run(session, document, {"s": "mchele"})
    async with gql_session(client) as anonymous:
        nairobi = await run(anonymous, document, {"s": "mchele", "r": "NAIROBI"})
        lagos = await run(anonymous, document, {"s": "mchele"})
        by_name = await run(anonymous, document, {"s": "rice"})
    assert skus(rice) == ["RCE-BASM-10K", "RCE-LONG-25K"]  # by name, as any search
    assert skus(coke) == ["DRK-COLA-35"]
    assert skus(chicken) == ["NDL-INDO-CHK"]
    assert skus(basmati) == ["RCE-BASM-10K"]
    assert skus(english) == []
    assert skus(nairobi) == skus(rice)
    assert skus(lagos) == []
    assert skus(by_name) == ["RCE-BASM-10K", "RCE-LONG-25K"]


async def test_a_product_no_longer_sold_in_the_region_is_not_listed_as_on_ussd(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Indomie Chicken loses its Lagos price (no longer sold there): the USSD list drops it,
    and the app's catalogue must too, rather than show it without a price for a cart that
    every quote then refuses."""
    async with services.db.transaction() as s:
        await s.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
    services.pricing.forget()
    query = """{
      categories { id productCount }
      noodles: products(category: "noodles", first: 50) {
        edges { node { sku price { amount } } } totalCount
      }
      found: products(search: "indomie") { edges { node { sku } } totalCount }
    }"""
    status, body = await post_graphql(client, query)
    assert status == 200
    data = body["data"]
    noodles = [e["node"] for e in data["noodles"]["edges"]]
    assert "NDL-INDO-CHK" not in [n["sku"] for n in noodles]
    assert all(n["price"] is not None for n in noodles)
    assert data["noodles"]["totalCount"] == len(noodles) == 3
    assert {"id": "noodles", "productCount": 3} in data["categories"]
    assert [e["node"]["sku"] for e in data["found"]["edges"]] == ["NDL-INDO-ONP"]

    ngozi = UssdPhone(client, NGOZI)
    await ngozi.dial()
    await ngozi.press("1")
    listed = await ngozi.press("1")
    assert len(listed.labels) - 1 == len(noodles)  # the products, and Back


async def test_an_orders_lines_add_up_as_its_quotes_did(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The app draws the order confirmation as it drew the quote: each line's lineTotal
    (quantity x unit price), its discount and net, adding up to subtotal and discount. The
    order's lineTotal was the net, so a screen adding lineTotals then taking the discount off
    showed Ngozi NGN 22,320.00 for an order of NGN 25,110.00 before VAT."""
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}, {"sku": "NDL-SPAG-500", "quantity": 5}]
    shape = "sku lineTotal { amount } discount { amount } net { amount }"
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(client, headers) as session:
        quoted = await run(
            session,
            "query($input: QuoteInput!) { quote(input: $input) { lines { "
            + shape
            + " } subtotal { amount } discount { amount } } }",
            {"input": {"customer": NGOZI, "lines": lines}},
        )
        placed = await run(
            session,
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { lines { "
            + shape
            + " } subtotal { amount } discount { amount } } } }",
            {
                "input": {
                    "customer": NGOZI,
                    "lines": lines,
                    "payment": {"method": "ON_DELIVERY"},
                    "idempotencyKey": "lines-add-up-0001",
                }
            },
        )
    quote, order = quoted["quote"], placed["placeOrder"]["order"]
    assert order["lines"] == quote["lines"]
    assert sum(Decimal(li["lineTotal"]["amount"]) for li in order["lines"]) == Decimal(
        order["subtotal"]["amount"]
    )
    assert sum(Decimal(li["discount"]["amount"]) for li in order["lines"]) == Decimal(
        order["discount"]["amount"]
    )
    indomie = order["lines"][0]
    assert (indomie["lineTotal"], indomie["net"]) == (
        {"amount": "27900.00"},
        {"amount": "25110.00"},
    )


async def test_paging_goes_on_after_the_last_product_seen_is_withdrawn(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's app has shown the first two noodles when the second is withdrawn in Lagos:
    'load more' goes on from where she was, not with an unknown cursor."""
    page = """query($after: String) {
      products(category: "noodles", first: 2, after: $after) {
        edges { cursor node { sku } } pageInfo { hasNextPage hasPreviousPage }
      }
    }"""
    _, first = await post_graphql(client, page)
    edges = first["data"]["products"]["edges"]
    seen = [e["node"]["sku"] for e in edges]
    async with services.db.transaction() as s:
        await s.execute(delete(prices).where(prices.c.region == "lagos", prices.c.sku == seen[-1]))
    services.pricing.forget()
    _, rest = await post_graphql(client, page, {"after": edges[-1]["cursor"]})
    assert "errors" not in rest
    products = rest["data"]["products"]
    shown = [e["node"]["sku"] for e in products["edges"]]
    assert shown == ["NDL-MACA-500", "NDL-SPAG-500"]
    assert not set(shown) & set(seen)
    assert products["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}


LOCKED_QUOTE = """
    query Quote($input: QuoteInput!) {
      quote(input: $input) { total { amount currency } priceLock { id expiresAt } errors {
        __typename } }
    }
    """

PLACE_LOCKED = """
    mutation Place($input: PlaceOrderInput!) {
      placeOrder(input: $input) {
        order { reference total { amount currency } }
        errors {
          __typename
          ... on UserError { message }
          ... on PriceChanged { priceLock expiredAt lockedTotal { amount } total { amount } }
        }
      }
    }
    """


async def _raise_price(services: Services, sku: str) -> None:
    """The region's list price goes up a third between the app's quote and its order."""
    async with services.db.transaction() as s:
        await s.execute(
            update(prices)
            .where(prices.c.region == "lagos", prices.c.sku == sku)
            .values(unit_price=prices.c.unit_price * Decimal("1.33"))
        )
    services.pricing.forget()


async def test_an_order_placed_with_the_quotes_price_lock_costs_what_the_quote_said(
    client: TestClient[Any, Any], services: Services
) -> None:
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}]
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        quoted = (await run(session, LOCKED_QUOTE, {"input": {"customer": NGOZI, "lines": lines}}))[
            "quote"
        ]
        await _raise_price(services, "NDL-INDO-CHK")
        order_input = {
            "customer": NGOZI,
            "lines": lines,
            "payment": {"method": "ON_DELIVERY"},
            "idempotencyKey": "locked-0001",
        }
        locked = await run(
            session,
            PLACE_LOCKED,
            {"input": {**order_input, "priceLock": quoted["priceLock"]["id"]}},
        )
        unlocked = await run(
            session, PLACE_LOCKED, {"input": {**order_input, "idempotencyKey": "unlocked-01"}}
        )

    assert locked["placeOrder"]["errors"] == []
    assert locked["placeOrder"]["order"]["total"] == quoted["total"]
    # Without the lock the cart is priced as it is now (the app that passes none, as before).
    assert Decimal(unlocked["placeOrder"]["order"]["total"]["amount"]) > Decimal(
        quoted["total"]["amount"]
    )


async def _locks(services: Services) -> int:
    async with services.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(price_locks)) or 0)


async def test_the_same_quote_asked_again_holds_the_same_price_lock_and_a_changed_one_a_new(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's app asks for her cart's quote on every screen: each ask held a new lock row. The
    same cart at the same prices now holds the same lock; another cart, code or price a new one,
    and each places its order at the total it showed."""
    three = [{"sku": "NDL-INDO-CHK", "quantity": 3}]
    four = [{"sku": "NDL-INDO-CHK", "quantity": 4}]

    async def quoted(session: Any, lines: list[dict[str, Any]], code: str | None = None) -> Any:
        wanted = {"customer": NGOZI, "lines": lines, "promoCode": code}
        return (await run(session, LOCKED_QUOTE, {"input": wanted}))["quote"]

    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        first = await quoted(session, three)
        again = await quoted(session, three)
        assert await _locks(services) == 1
        bigger = await quoted(session, four)
        coded = await quoted(session, three, "WELCOME")
        await _raise_price(services, "NDL-INDO-CHK")
        dearer = await quoted(session, three)
        ids = [q["priceLock"]["id"] for q in (first, bigger, coded, dearer)]
        placed = [
            await run(
                session,
                PLACE_LOCKED,
                {
                    "input": {
                        "customer": NGOZI,
                        "lines": lines,
                        "payment": {"method": "ON_DELIVERY"},
                        "idempotencyKey": f"same-lock-000{n}",
                        "priceLock": q["priceLock"]["id"],
                    }
                },
            )
            for n, (lines, q) in enumerate(((three, first), (four, bigger)))
        ]

    assert again["priceLock"] == first["priceLock"]
    assert len(set(ids)) == 4
    assert await _locks(services) == 4
    assert Decimal(dearer["total"]["amount"]) > Decimal(first["total"]["amount"])
    assert [p["placeOrder"]["errors"] for p in placed] == [[], []]
    assert [p["placeOrder"]["order"]["total"] for p in placed] == [first["total"], bigger["total"]]


async def test_an_expired_or_someone_elses_price_lock_places_nothing_and_says_the_new_total(
    client: TestClient[Any, Any], services: Services, clock: SteppedClock
) -> None:
    lines = [{"sku": "NDL-INDO-CHK", "quantity": 3}]
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        quoted = (await run(session, LOCKED_QUOTE, {"input": {"customer": NGOZI, "lines": lines}}))[
            "quote"
        ]
    lock = quoted["priceLock"]
    assert datetime.fromisoformat(lock["expiresAt"]) == clock.now() + timedelta(minutes=15)
    await _raise_price(services, "NDL-INDO-CHK")
    clock.advance(16 * 60)
    order_input = {
        "lines": lines,
        "payment": {"method": "ON_DELIVERY"},
        "idempotencyKey": "locked-0002",
        "priceLock": lock["id"],
    }
    async with gql_session(client, bearer(services.settings, NGOZI, "customer")) as session:
        expired = await run(session, PLACE_LOCKED, {"input": {**order_input, "customer": NGOZI}})
    async with gql_session(client, bearer(services.settings, BOLA, "customer")) as session:
        foreign = await run(session, PLACE_LOCKED, {"input": {**order_input, "customer": BOLA}})
    async with gql_session(client) as session:
        anonymous = await run(session, LOCKED_QUOTE, {"input": {"customer": NGOZI, "lines": lines}})

    assert expired["placeOrder"]["order"] is None
    (error,) = expired["placeOrder"]["errors"]
    assert error["__typename"] == "PriceChanged"
    assert datetime.fromisoformat(error["expiredAt"]) == datetime.fromisoformat(lock["expiresAt"])
    assert error["lockedTotal"] == {"amount": quoted["total"]["amount"]}
    assert Decimal(error["total"]["amount"]) > Decimal(quoted["total"]["amount"])
    (other,) = foreign["placeOrder"]["errors"]
    # Bola is told nothing of what Ngozi's lock held.
    assert other["__typename"] == "PriceChanged"
    assert other["lockedTotal"] is None
    assert other["expiredAt"] is None
    assert foreign["placeOrder"]["order"] is None
    assert await services.orders.recent(Phone(NGOZI)) == []
    # The public price list is nobody's to hold.
    assert anonymous["quote"]["priceLock"] is None
