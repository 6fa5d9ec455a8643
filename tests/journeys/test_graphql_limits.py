"""Limits a caller notices: query depth and cost, 429 with Retry-After, polite USSD refusals,
and lists that cost the database the same few queries whatever their length."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import event

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import SeededIds
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.demo_template import seed_demo
from tests.support.graphql import bearer, gateway, post_graphql, ws_transport
from tests.support.phone import UssdPhone
from tests.support.ports import free_port
from tests.support.providers.twilio import (
    TwilioCaller,
    new_message_sid,
    sms_body,
    twilio_gateway,
    twilio_settings,
)

NGOZI = "+2348030000001"
PRODUCTS = "{ products(first: 3) { edges { node { sku } } } }"


@pytest.fixture
async def strict(
    database_url: str, clock: SteppedClock
) -> AsyncIterator[tuple[TestClient[Any, Any], Services]]:
    settings = Settings(
        env="test",
        database_url=database_url,
        graphql_max_depth=3,
        graphql_max_cost=500,
        rate_limit_ip_burst=6,
        rate_limit_ip_per_second=1.0,
        rate_limit_user_burst=2,
        rate_limit_user_per_second=0.5,
        rate_limit_phone_burst=3,
        rate_limit_phone_per_second=0.1,
        _env_file=None,
    )
    async with gateway(settings, clock) as pair:
        yield pair


async def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    client, _ = strict
    deep = "{ products(first: 1) { edges { node { price { amount } } } } }"
    _, body = await post_graphql(client, deep)
    assert body["data"] is None
    [error] = body["errors"]
    assert "exceeds maximum operation depth" in error["message"]
    # Refused as a costly query is: an app switches on the one code for both.
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "depthLimit": 3}


async def test_a_query_costing_more_than_the_limit_is_refused(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    client, _ = strict
    costly = "{ a: products(first: 100) { edges { node { sku name unit } } } }"
    _, body = await post_graphql(client, costly)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > error["extensions"]["limit"] == 500
    _, cheap = await post_graphql(client, PRODUCTS)
    assert len(cheap["data"]["products"]["edges"]) == 3


async def test_too_many_requests_get_429_with_retry_after_until_the_bucket_refills(
    strict: tuple[TestClient[Any, Any], Services], clock: SteppedClock
) -> None:
    client, services = strict
    ngozi = bearer(services.settings, NGOZI, "customer")
    statuses = [(await post_graphql(client, PRODUCTS, headers=ngozi))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = await client.post("/graphql", json={"query": PRODUCTS}, headers=ngozi)
    assert response.status == 429
    assert response.headers["Retry-After"] == "2"
    body = await response.json()
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Another user from the same address still has their own budget (the IP's is larger).
    other = bearer(services.settings, "+2348030000002", "customer")
    assert (await post_graphql(client, PRODUCTS, headers=other))[0] == 200
    clock.advance(2)
    assert (await post_graphql(client, PRODUCTS, headers=ngozi))[0] == 200


async def test_anonymous_callers_share_their_address_budget(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    client, _ = strict
    statuses = [(await post_graphql(client, PRODUCTS))[0] for _ in range(7)]
    assert statuses == [200] * 6 + [429]


async def test_queries_over_one_websocket_spend_the_same_budget_as_over_http(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    """graphql-transport-ws runs queries and mutations too: a client that opens one socket and
    sends everything down it is limited as if it posted each one."""
    client, _ = strict
    answers: list[str] = []
    async with Client(transport=ws_transport(client, {})) as session:
        for _ in range(8):
            try:
                await session.execute(GraphQLRequest(PRODUCTS))
            except TransportQueryError as exc:
                answers.append((exc.errors or [{}])[0]["extensions"]["code"])
            else:
                answers.append("ok")
    # The socket's upgrade took the first of the address's six tokens.
    assert answers == ["ok"] * 5 + ["RATE_LIMITED"] * 3
    status, _ = await post_graphql(client, PRODUCTS)
    assert status == 429


async def test_a_ussd_caller_who_goes_too_fast_gets_a_polite_closing_screen(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    client, _ = strict
    phone = UssdPhone(client, NGOZI)
    first = await phone.dial()
    assert first.kind == "CON"
    await phone.press("1")
    await phone.press("1")
    refused = await phone.press("1")
    assert refused.kind == "END"
    assert "wait a minute" in refused.body
    # Another caller is not affected.
    assert (await UssdPhone(client, "+2348030000002").dial()).kind == "CON"
    # Answered 200, the refusal is counted for the operators' dashboard and alerts.
    scrape = await (await client.get("/metrics")).text()
    assert 'omniroute_rate_limited_turns_total{kind="ussd"} 1.0' in scrape


async def test_a_kenyan_who_chose_english_is_told_to_slow_down_in_english(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    """Her market speaks Swahili, but she chose English: the refusal is in English, in the
    session she is in and on a new dial alike."""
    client, _ = strict
    juma = UssdPhone(client, "+254711000001")
    assert (await juma.dial()).body.startswith("Karibu")
    await juma.choose("Lugha")
    assert (await juma.choose("English")).body.startswith("Language changed.")

    in_session = await juma.press("1")
    again = await juma.dial()

    slow_down = "You are going a little fast. Please wait a minute and try again."
    assert (in_session.kind, in_session.body) == ("END", slow_down)
    assert (again.kind, again.body) == ("END", slow_down)


async def test_the_slow_down_follows_a_language_changed_since(
    strict: tuple[TestClient[Any, Any], Services], clock: SteppedClock
) -> None:
    """Refused on a new dial she is told in the language she chose: still so once she has
    chosen another."""
    client, _ = strict
    juma = UssdPhone(client, "+254711000001")
    await juma.dial()
    await juma.choose("Lugha")
    await juma.choose("English")
    assert (await juma.dial()).body.startswith("You are going a little fast.")
    clock.advance(60)  # the bucket full again
    await juma.dial()
    await juma.choose("Language")
    assert (await juma.choose("Kiswahili")).body.startswith("Lugha imebadilishwa.")

    refused = await juma.dial()

    assert (refused.kind, refused.body) == (
        "END",
        "Unaenda haraka kidogo. Tafadhali subiri dakika moja kisha ujaribu tena.",
    )


BACKGROUND_TABLES = ("outbox", "deliveries", "processed_events")


@contextmanager
def counting_queries(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The outbox relay and the delivery worker poll in the background: not the request's.
        if not any(table in statement for table in BACKGROUND_TABLES):
            statements.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


PRICED = (
    "query($n: Int) { products(first: $n) { edges { node { sku price { amount } inStock } } } }"
)


async def test_a_product_page_costs_the_same_queries_whatever_its_length(
    client: TestClient[Any, Any], services: Services
) -> None:
    await post_graphql(client, PRICED, {"n": 1})  # warms the shelf and price book caches
    counts = []
    for size in (2, 30):
        with counting_queries(services) as statements:
            _, body = await post_graphql(client, PRICED, {"n": size})
        assert len(body["data"]["products"]["edges"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 2


ORDERS = """query { orders(first: 20) {
  edges { node { reference lines { sku unitPrice { amount } } total { amount } } } } }"""


async def test_an_order_history_page_costs_the_same_queries_whatever_its_length(
    client: TestClient[Any, Any], services: Services
) -> None:
    shelf = await services.catalogue.shelf(RegionCode.LAGOS)
    skus = sorted(shelf.products)
    headers = bearer(services.settings, NGOZI, "customer")
    # Only this test relays the outbox: the background relay's subscribers (billing, the
    # ledger) would otherwise still be at work while the statements are counted.
    await services.relay.stop()
    counts = []
    placed = 0
    for target in (2, 8):
        while placed < target:
            await services.orders.place(
                PlaceOrder(
                    Phone(NGOZI),
                    RegionCode.LAGOS,
                    (CartLine(skus[placed], 1), CartLine(skus[placed + 1], 2)),
                    PaymentMethod.ON_DELIVERY,
                    f"history-{placed}",
                    clear_cart=False,
                )
            )
            placed += 1
        await services.relay.drain()  # the SMS confirmations' work is done before counting
        with counting_queries(services) as statements:
            _, body = await post_graphql(client, ORDERS, headers=headers)
        assert len(body["data"]["orders"]["edges"]) == target
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 3


async def test_guessing_client_secrets_is_rate_limited_per_address(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    client, _ = strict
    form = {"grant_type": "client_credentials", "client_id": "omr-x", "client_secret": "guess"}
    statuses = [(await client.post("/oauth/token", data=form)).status for _ in range(7)]
    assert statuses == [401] * 6 + [429]


async def test_guessing_api_keys_and_tokens_is_rate_limited_per_address(
    strict: tuple[TestClient[Any, Any], Services],
) -> None:
    """A refused credential still spends the address's budget: otherwise anyone could try
    keys (each one a database read) as fast as the gateway answers."""
    client, _ = strict
    guesses = [{"X-API-Key": f"omr_guess{n}"} for n in range(4)] + [
        {"Authorization": f"Bearer not.a.token{n}"} for n in range(3)
    ]
    answers = [await post_graphql(client, PRODUCTS, headers=h) for h in guesses]
    assert [status for status, _ in answers] == [200] * 6 + [429]
    codes = [body["errors"][0]["extensions"]["code"] for _, body in answers]
    assert codes == ["UNAUTHENTICATED"] * 6 + ["RATE_LIMITED"]
    # The address is spent for everyone behind it, signed in or not.
    assert (await post_graphql(client, PRODUCTS))[0] == 429


async def test_an_sms_flood_gets_one_short_reply_in_twiml_not_an_error(
    database_url: str, clock: SteppedClock
) -> None:
    """Twilio retries a non-200 webhook, so a throttled SMS is answered 200 with a short
    message, signed as usual, and the pipeline is not run for it."""
    port = free_port()
    settings = twilio_settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        rate_limit_phone_burst=2,
        rate_limit_phone_per_second=0.01,
    )
    services = build_services(settings, clock=clock, ids=SeededIds())
    await seed_demo(services.db, clock.now())
    try:
        async with twilio_gateway(services, port) as twilio:
            replies = []
            for _ in range(3):
                body = sms_body("hi", phone=NGOZI, message_sid=new_message_sid())
                response = await twilio.post("/channels/twilio/sms", body)
                assert response.status == 200
                replies.append(await response.text())
    finally:
        await services.close()
    assert "wait a minute" not in replies[0]
    assert "wait a minute" in replies[2]
    assert "<Message>" in replies[2]


async def test_a_kenyan_caller_throttled_on_twilio_voice_is_told_in_english_not_swahili(
    database_url: str, clock: SteppedClock
) -> None:
    """Twilio has no Swahili voice: the refusal was Swahili words read by the English voice.
    It is in the language the line speaks, as every other prompt on it."""
    port = free_port()
    settings = twilio_settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        rate_limit_phone_burst=2,
        rate_limit_phone_per_second=0.01,
    )
    services = build_services(settings, clock=clock, ids=SeededIds())
    await seed_demo(services.db, clock.now())
    try:
        async with twilio_gateway(services, port) as twilio:
            turns = [await TwilioCaller(twilio, "+254711000001").call() for _ in range(3)]
    finally:
        await services.close()
    refused = turns[2]
    assert refused.say == "You are going a little fast. Please wait a minute and try again."
    assert (refused.language, refused.voice) == ("en-GB", "Google.en-GB-Standard-A")
    assert refused.hangup
