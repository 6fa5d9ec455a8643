"""A gql client for the app under test, signed in as whoever the test needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

from channels.graphql import OrderUpdates, TokenKeys
from channels.graphql.view import OmniRouteGraphQLView
from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.clock import SteppedClock
from core.config import Settings
from core.ids import SeededIds
from core.phone import Phone
from core.region import RegionCode
from engines.access import Principal, Role
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.demo_template import seed_demo


def bearer(settings: Settings, subject: str, role: Role | str) -> dict[str, str]:
    token = TokenKeys.from_settings(settings).issue(Principal(subject, Role(role)))
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def gql_session(
    client: TestClient[Any, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[AsyncClientSession]:
    transport = AIOHTTPTransport(url=str(client.make_url("/graphql")), headers=headers or {})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


async def run(
    session: AsyncClientSession, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Execute one operation (gql 4 wants variables on the request, not on execute)."""
    return await session.execute(GraphQLRequest(document, variable_values=variables or {}))


@asynccontextmanager
async def gateway(
    settings: Settings, clock: SteppedClock
) -> AsyncIterator[tuple[TestClient[Any, Any], Services]]:
    """A gateway on its own settings (keys, limits), on the demo data, behind a test server."""
    services = build_services(settings, clock=clock, ids=SeededIds())
    await seed_demo(services.db, clock.now())
    app = create_app(settings, build=lambda _s: services)
    try:
        async with TestClient(TestServer(app)) as client:
            yield client, services
    finally:
        await services.close()


async def post_graphql(
    client: TestClient[Any, Any],
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """The raw HTTP answer, for what gql hides: status codes, headers, `data: null`."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    return response.status, await response.json()


async def place_for(services: Services, customer: str, key: str) -> str:
    shelf = await services.catalogue.shelf(RegionCode.LAGOS)
    sku = sorted(shelf.products)[0]
    order = await services.orders.place(
        PlaceOrder(
            Phone(customer),
            RegionCode.LAGOS,
            (CartLine(sku, 1),),
            PaymentMethod.ON_DELIVERY,
            key,
            clear_cart=False,
        )
    )
    return order.reference


ORDER_UPDATES = """subscription($r: String!) {
  orderUpdates(reference: $r) { reference status previousStatus order { status total { amount } } }
}"""


def ws_transport(client: TestClient[Any, Any], headers: dict[str, Any]) -> WebsocketsTransport:
    url = str(client.make_url("/graphql")).replace("http://", "ws://")
    return WebsocketsTransport(
        url=url,
        init_payload=headers,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


async def wait_until_watching(client: TestClient[Any, Any]) -> None:
    for _ in range(200):
        if order_updates_hub(client).watching:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the subscription never started watching")


def order_updates_hub(client: TestClient[Any, Any]) -> OrderUpdates:
    """The app's subscription hub, found through the mounted view."""
    assert client.app is not None
    for route in client.app.router.routes():
        handler = route.handler
        if isinstance(handler, OmniRouteGraphQLView):
            return handler.services.updates
    raise AssertionError("no /graphql view")


async def follow_order(
    client: TestClient[Any, Any], headers: dict[str, Any], reference: str, count: int
) -> list[dict[str, Any]]:
    """Subscribe over graphql-transport-ws and return the first `count` updates."""
    received: list[dict[str, Any]] = []
    async with Client(transport=ws_transport(client, headers)) as session:
        request = GraphQLRequest(ORDER_UPDATES, variable_values={"r": reference})
        async for result in session.subscribe(request):
            received.append(result["orderUpdates"])
            if len(received) == count:
                break
    return received
