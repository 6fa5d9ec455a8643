"""An app follows its order live: a status change reaches the subscription through the bus."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from sqlalchemy import update

from core.app.bootstrap import Services
from core.bus.events import EventEnvelope
from core.bus.tables import outbox
from core.region import RegionCode
from engines.orders import OrderStatus
from engines.orders.events import OrderStatusChanged
from tests.support.graphql import (
    ORDER_UPDATES,
    bearer,
    follow_order,
    order_updates_hub,
    place_for,
    wait_until_watching,
    ws_transport,
)

NGOZI = "+2348030000001"


async def test_the_app_receives_the_orders_status_change_as_it_happens(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-live-0001")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 3))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.PICKING)
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),  # where the order stood when the app subscribed
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "PICKING"),
    ]
    assert received[2]["order"]["status"] == "PICKING"
    assert order_updates_hub(client).watching == 0


async def test_an_app_that_subscribes_again_is_told_first_where_its_order_stands(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's phone lost its network while her order was being picked; her app reconnects and
    subscribes again. It is told at once that the order is being picked, then the next change,
    instead of nothing until then (the app had to ask separately)."""
    reference = await place_for(services, NGOZI, "k-live-0012")
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.PICKING)
    await services.relay.drain()  # those changes went out before the app came back
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 2))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.PACKED)
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PICKING", "PICKING"),
        ("PICKING", "PACKED"),
    ]
    assert received[0]["order"]["status"] == "PICKING"


async def test_a_change_made_while_the_subscription_starts_is_sent_not_lost(
    client: TestClient[Any, Any], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse confirms Ngozi's order in the instant her app subscribes: while the
    subscription is still reading the order to check it is hers. She still gets the change."""
    reference = await place_for(services, NGOZI, "k-live-0003")
    delivered = asyncio.Event()

    async def after_the_hub(envelope: EventEnvelope) -> None:
        delivered.set()  # the embedded bus calls its subscribers in order: the hub has it

    services.bus.subscribe(OrderStatusChanged.topic, "test-after-the-hub", after_the_hub)
    read = services.orders.get

    async def read_while_confirmed(ref: str) -> Any:
        order = await read(ref)
        if not delivered.is_set():  # the subscription's own check, the first read
            await services.orders.advance(reference, OrderStatus.CONFIRMED)
            await asyncio.wait_for(delivered.wait(), timeout=10)  # the change has gone past
        return order

    monkeypatch.setattr(services.orders, "get", read_while_confirmed)
    headers = bearer(services.settings, NGOZI, "customer")

    received = await asyncio.wait_for(follow_order(client, headers, reference, 1), timeout=15)

    assert [(u["previousStatus"], u["status"]) for u in received] == [("PLACED", "CONFIRMED")]


async def refusal(
    client: TestClient[Any, Any], headers: dict[str, str], reference: str
) -> dict[str, Any]:
    """The error a subscription to `reference` ends with."""
    async with Client(transport=ws_transport(client, headers)) as session:
        request = GraphQLRequest(ORDER_UPDATES, variable_values={"r": reference})
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request):
                pass
    assert refused.value.errors is not None
    (error,) = refused.value.errors
    return dict(error)


async def test_nobody_follows_someone_elses_order(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Following Ngozi's order, Emeka is told what a reference nobody has gets: NOT_FOUND,
    not a refusal that would confirm the order exists."""
    reference = await place_for(services, NGOZI, "k-live-0002")
    anonymous = await refusal(client, {}, reference)
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    emeka = bearer(services.settings, "+2348030000002", "customer")
    real = await refusal(client, emeka, reference)
    guessed = await refusal(client, emeka, "222222")
    assert real["extensions"]["code"] == "NOT_FOUND"
    assert (real["message"], real["extensions"]) == (
        guessed["message"].replace("222222", reference),
        guessed["extensions"],
    )
    assert order_updates_hub(client).watching == 0  # a refused subscription listens to nothing


async def test_the_token_sent_in_connection_init_signs_in_queries_on_the_socket_too(
    client: TestClient[Any, Any], services: Services
) -> None:
    """An app that sends everything down its socket (a browser cannot set a socket's headers,
    so the token goes in connection_init) is signed in for its queries and mutations, as it is
    for its subscriptions: not told to send the token it sent."""
    reference = await place_for(services, NGOZI, "k-live-0004")
    headers = bearer(services.settings, NGOZI, "customer")
    async with Client(transport=ws_transport(client, headers)) as session:
        me = await session.execute(GraphQLRequest("{ me { phone } }"))
        found = await session.execute(
            GraphQLRequest(
                "query($r: String!) { order(reference: $r) { ... on Order { reference } } }",
                variable_values={"r": reference},
            )
        )
    assert me == {"me": {"phone": NGOZI}}
    assert found == {"order": {"reference": reference}}

    refused = await refusal(client, {"Authorization": "Bearer not-a-token"}, reference)
    assert refused["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_app_that_sends_its_token_under_headers_in_connection_init_follows_its_order(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Apps written for Hasura (and gql-dart's Flutter clients) put the socket's credentials
    under `headers` in connection_init, in any case: Ngozi's app follows her order, not told
    to sign in with the token it sent."""
    reference = await place_for(services, NGOZI, "k-live-0006")
    token = bearer(services.settings, NGOZI, "customer")["Authorization"]
    init = {"headers": {"authorization": token}}
    task = asyncio.create_task(follow_order(client, init, reference, 2))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
    ]
    async with Client(transport=ws_transport(client, init)) as session:
        assert await session.execute(GraphQLRequest("{ me { phone } }")) == {"me": {"phone": NGOZI}}


async def test_a_subscription_posted_over_http_is_told_to_use_the_websocket(
    client: TestClient[Any, Any], services: Services
) -> None:
    """An app that posts its subscription like a query gets a 400 naming the mistake, not an
    internal error (the resolver run as a query returned nothing GraphQL could answer)."""
    reference = await place_for(services, NGOZI, "k-live-0005")
    headers = bearer(services.settings, NGOZI, "customer")
    response = await client.post(
        "/graphql",
        json={"query": ORDER_UPDATES, "variables": {"r": reference}},
        headers=headers,
    )
    assert response.status == 400
    assert "subscriptions are not allowed" in await response.text()
    assert order_updates_hub(client).watching == 0


async def test_a_socket_reads_the_stock_as_it_is_now_not_as_it_was_at_its_first_read(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A dashboard keeps one socket open and asks again and again: each answer is read then,
    not the first one kept for the socket's lifetime."""
    shelf = await services.catalogue.shelf(RegionCode.LAGOS)
    sku = sorted(shelf.products)[0]  # the product place_for orders
    stock = GraphQLRequest(
        "query($s: String) { products(search: $s) { edges { node { sku stock } } } }",
        variable_values={"s": sku},
    )
    operator = bearer(services.settings, "op-1", "operator")
    async with Client(transport=ws_transport(client, operator)) as session:
        before = await session.execute(stock)
        await place_for(services, NGOZI, "k-live-0006")
        after = await session.execute(stock)
    [was] = [e["node"]["stock"] for e in before["products"]["edges"] if e["node"]["sku"] == sku]
    [now] = [e["node"]["stock"] for e in after["products"]["edges"] if e["node"]["sku"] == sku]
    assert now == was - 1 == await services.catalogue.available(RegionCode.LAGOS, sku)


async def every_update(
    client: TestClient[Any, Any], headers: dict[str, str], reference: str
) -> list[dict[str, Any]]:
    """Every update the subscription sends, until the gateway completes it."""
    async with Client(transport=ws_transport(client, headers)) as session:
        request = GraphQLRequest(ORDER_UPDATES, variable_values={"r": reference})
        return [result["orderUpdates"] async for result in session.subscribe(request)]


async def test_the_subscription_completes_after_the_orders_final_status(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's order is cancelled: her app gets the cancellation, then the subscription
    completes (nothing follows a cancellation), instead of holding its socket open for ever."""
    reference = await place_for(services, NGOZI, "k-live-0007")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(every_update(client, headers, reference))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.CANCELLED)
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "CANCELLED"),
    ]
    assert order_updates_hub(client).watching == 0

    # Following an order that is already cancelled tells the app so, then completes: it will
    # not change. (It completed with no message: the app, reconnecting, never learnt of it.)
    again = await asyncio.wait_for(every_update(client, headers, reference), timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in again] == [("CANCELLED", "CANCELLED")]


async def test_an_event_the_relay_publishes_again_reaches_the_app_once(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The relay died after publishing and before marking the batch sent: it publishes the
    batch again (at least once), and the app still shows each status change once."""
    reference = await place_for(services, NGOZI, "k-live-0009")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 3))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.relay.drain()
    async with services.db.transaction() as s:
        await s.execute(update(outbox).values(sent_at=None))
    await services.relay.drain()  # the same events once more
    await services.orders.advance(reference, OrderStatus.PICKING)
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "PICKING"),
    ]


async def test_statuses_the_live_group_missed_while_reconnecting_reach_the_app_once(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The gateway's live consumer group lost its broker and joined again at the topic's end:
    the order was packed and then cancelled meanwhile, events it never got. Once it has
    joined, Ngozi's app is sent the cancellation (from packed, the last she had, to cancelled)
    and the subscription completes; the events coming late after that send nothing twice."""
    reference = await place_for(services, NGOZI, "k-live-0010")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(every_update(client, headers, reference))
    await wait_until_watching(client)
    hub = order_updates_hub(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.PICKING)
    await services.orders.advance(reference, OrderStatus.PACKED)
    await services.relay.drain()

    missed: list[EventEnvelope] = []

    async def away(envelope: EventEnvelope) -> None:
        missed.append(envelope)  # the group was reconnecting: it never saw these

    subscribers = services.bus._subscribers[OrderStatusChanged.topic]  # type: ignore[attr-defined]
    (place,) = [i for i, (group, _) in enumerate(subscribers) if group.startswith("graphql-")]
    group, deliver = subscribers[place]
    subscribers[place] = (group, away)
    await services.orders.advance(reference, OrderStatus.CANCELLED)
    await services.relay.drain()
    subscribers[place] = (group, deliver)
    assert [e.data["status"] for e in missed] == ["cancelled"]
    await hub.catch_up()  # the group has joined again
    for envelope in missed:  # a late copy, as a group that read them after all would
        await deliver(envelope)

    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "PICKING"),
        ("PICKING", "PACKED"),
        ("PACKED", "CANCELLED"),
    ]
    assert hub.watching == 0


async def test_a_rejoin_with_nothing_missed_sends_nothing_and_keeps_the_order(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The group rejoins after the app was sent PICKING, with nothing missed: nothing is sent
    then; the next change (PACKED) follows as usual, once, after PICKING."""
    reference = await place_for(services, NGOZI, "k-live-0011")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 4))
    await wait_until_watching(client)
    hub = order_updates_hub(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.PICKING)
    await services.relay.drain()
    await hub.catch_up()
    await services.orders.advance(reference, OrderStatus.PACKED)
    await services.relay.drain()
    await hub.catch_up()
    received = await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "PICKING"),
        ("PICKING", "PACKED"),
    ]
