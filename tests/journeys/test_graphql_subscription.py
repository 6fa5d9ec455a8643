"""An app follows its order live: a status change reaches the subscription through the bus."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from channels.graphql import OrderUpdates
from channels.graphql.view import OmniRouteGraphQLView
from core.app.bootstrap import Services
from engines.orders import OrderStatus
from tests.support.graphql import bearer, place_for

NGOZI = "+2348030000001"

UPDATES = """subscription($r: String!) {
  orderUpdates(reference: $r) { reference status previousStatus order { status total { amount } } }
}"""


def ws_transport(client: TestClient[Any, Any], headers: dict[str, str]) -> WebsocketsTransport:
    url = str(client.make_url("/graphql")).replace("http://", "ws://")
    return WebsocketsTransport(
        url=url,
        init_payload=headers,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


async def wait_until_watching(client: TestClient[Any, Any]) -> None:
    for _ in range(200):
        if _updates(client).watching:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription never started watching")


def _updates(client: TestClient[Any, Any]) -> OrderUpdates:
    """The app's subscription hub, found through the mounted view."""
    assert client.app is not None
    for route in client.app.router.routes():
        handler = route.handler
        if isinstance(handler, OmniRouteGraphQLView):
            return handler.services.updates
    raise AssertionError("no /graphql view")


async def test_the_app_receives_the_orders_status_change_as_it_happens(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-live-0001")
    headers = bearer(services.settings, NGOZI, "customer")
    received: list[dict[str, Any]] = []

    async def follow() -> None:
        async with Client(transport=ws_transport(client, headers)) as session:
            request = GraphQLRequest(UPDATES, variable_values={"r": reference})
            async for result in session.subscribe(request):
                received.append(result["orderUpdates"])
                if len(received) == 2:
                    return

    task = asyncio.create_task(follow())
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.PICKING)
    await asyncio.wait_for(task, timeout=10)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "CONFIRMED"),
        ("CONFIRMED", "PICKING"),
    ]
    assert received[1]["order"]["status"] == "PICKING"
    assert _updates(client).watching == 0


async def test_nobody_follows_someone_elses_order(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-live-0002")
    for headers, code in (
        ({}, "UNAUTHENTICATED"),
        (bearer(services.settings, "+2348030000002", "customer"), "FORBIDDEN"),
    ):
        async with Client(transport=ws_transport(client, headers)) as session:
            request = GraphQLRequest(UPDATES, variable_values={"r": reference})
            with pytest.raises(TransportQueryError) as refused:
                async for _ in session.subscribe(request):
                    pass
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == code
