"""The apps' subscription sockets end when they should: a silent phone, a gateway restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import update

import channels.graphql.view
from channels.graphql import TokenKeys
from channels.graphql.auth import LEEWAY_SECONDS
from core.app.bootstrap import Services
from core.ids import RandomIds
from engines.access import AccessService, Principal, Role
from engines.access.tables import api_keys
from tests.support.graphql import (
    ORDER_UPDATES,
    bearer,
    order_updates_hub,
    place_for,
    wait_until_watching,
)

NGOZI = "+2348030000001"


@asynccontextmanager
async def following(
    client: TestClient[Any, Any], services: Services, *, autoping: bool = True
) -> AsyncIterator[ClientWebSocketResponse]:
    """Ngozi's app, subscribed to her order's updates over graphql-transport-ws."""
    reference = await place_for(services, NGOZI, "k-sock-0001")
    async with client.ws_connect(
        "/graphql", protocols=["graphql-transport-ws"], autoping=autoping
    ) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": bearer(services.settings, NGOZI, "customer")}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": ORDER_UPDATES, "variables": {"r": reference}},
            }
        )
        await wait_until_watching(client)
        told = await ws.receive_json(timeout=5)  # where the order stands, first
        assert told["payload"]["data"]["orderUpdates"]["status"] == "PLACED"
        yield ws


async def test_shutting_down_closes_subscriptions_with_going_away_at_once(
    client: TestClient[Any, Any], services: Services
) -> None:
    async with following(client, services) as ws:
        await asyncio.wait_for(client.server.close(), timeout=5)

        closing = await ws.receive(timeout=5)
        assert closing.type is WSMsgType.CLOSE
        assert closing.data == WSCloseCode.GOING_AWAY


async def test_a_subscriber_whose_phone_went_silent_is_let_go(
    client: TestClient[Any, Any], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone that lost its network answers no ping: its subscription ends, not hours later."""
    monkeypatch.setattr(channels.graphql.view, "HEARTBEAT_SECONDS", 0.2)
    async with following(client, services, autoping=False):
        hub = order_updates_hub(client)
        for _ in range(100):
            if not hub.watching:
                break
            await asyncio.sleep(0.05)
        assert hub.watching == 0


def expiring_token(services: Services, subject: str, seconds: float) -> dict[str, str]:
    """A customer's token that stops being accepted (expiry and leeway) in `seconds`."""
    keys = TokenKeys.from_settings(services.settings)
    issued = time.time() + seconds - keys.ttl_seconds - LEEWAY_SECONDS
    token = keys.issue(Principal(subject, Role.CUSTOMER), now=issued)
    return {"Authorization": f"Bearer {token}"}


async def test_a_subscription_ends_when_its_token_expires(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Ngozi's app signed in with a token that expires: her order's updates stop at the
    expiry with UNAUTHENTICATED (sign in again), not for as long as the socket stays open."""
    reference = await place_for(services, NGOZI, "k-sock-0002")
    async with client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": expiring_token(services, NGOZI, 3)}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": ORDER_UPDATES, "variables": {"r": reference}},
            }
        )
        # Not polled for the watch (on a loaded machine it can start and end between polls):
        # where the order stands comes first, then a `next` with UNAUTHENTICATED is the running
        # subscription ending; one refused at its start would be an `error`.
        told = await ws.receive_json(timeout=5)
        assert told["payload"]["data"]["orderUpdates"]["status"] == "PLACED"
        ended = await ws.receive_json(timeout=10)
        assert ended["type"] == "next"
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "sign in again" in ended["payload"]["errors"][0]["message"]
        assert await ws.receive_json(timeout=5) == {"id": "1", "type": "complete"}
        assert order_updates_hub(client).watching == 0

        # Nor is the socket's lapsed sign-in good for a query, or a new subscription.
        await ws.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ me { phone } }"}}
        )
        refused = await ws.receive_json(timeout=5)
        assert refused["type"] == "error"  # graphql-transport-ws: the operation did not run
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_api_key_stops_serving_its_open_socket(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A warehouse screen's key is revoked while its socket is open: its next query on that
    socket is refused, as a new connection would be."""
    access = AccessService(services.db, services.clock, RandomIds())
    issued = await access.create_api_key(Role.OPERATOR, name="warehouse screen")
    async with client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"X-API-Key": issued.secret}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        ask = {"query": '{ customer(phone: "+2348030000001") { phone } }'}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": ask})
        assert (await ws.receive_json(timeout=5))["payload"] == {
            "data": {"customer": {"phone": NGOZI}}
        }
        assert (await ws.receive_json(timeout=5))["type"] == "complete"

        async with services.db.transaction() as s:
            await s.execute(
                update(api_keys)
                .where(api_keys.c.key_id == issued.id)
                .values(revoked_at=services.clock.now())
            )
        await ws.send_json({"id": "2", "type": "subscribe", "payload": ask})
        refused = await ws.receive_json(timeout=5)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
