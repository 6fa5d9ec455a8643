"""Web chat speaks for a phone number: with a token it must be that phone's (or staff's)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

import channels.web.ws
from channels.graphql.auth import TokenKeys
from core.app.api import SIGN_IN
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from engines.access import Principal, Role
from tests.contract.channels.web.chat import MESSAGES, WS, message_body
from tests.support.graphql import bearer, gateway

NGOZI = "+2348030000001"
EMEKA = "+2348030000002"
BAYO = "+2348035550002"  # a demo driver


async def test_a_token_for_another_phone_is_refused_and_the_own_phone_is_served(
    client: TestClient[Any, Any], services: Services
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    other = await client.post(MESSAGES, json=message_body(EMEKA, "hi"), headers=headers)
    assert other.status == 403
    own = await client.post(MESSAGES, json=message_body(NGOZI, "hi"), headers=headers)
    assert own.status == 200
    assert (await own.json())["options"]
    bad = await client.post(
        MESSAGES, json=message_body(NGOZI, "hi"), headers={"Authorization": "Bearer nope"}
    )
    assert bad.status == 401


async def test_a_drivers_token_chats_for_the_drivers_own_phone(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The phone's own token, whatever its role: a driver shops in the chat as on USSD."""
    headers = bearer(services.settings, BAYO, "driver")
    own = await client.post(MESSAGES, json=message_body(BAYO, "hi"), headers=headers)
    assert own.status == 200, await own.text()
    assert (await own.json())["text"] == "Welcome to OmniRoute"
    other = await client.post(MESSAGES, json=message_body(NGOZI, "hi"), headers=headers)
    assert other.status == 403


async def test_a_browser_websocket_passes_its_token_in_the_query(
    client: TestClient[Any, Any], services: Services
) -> None:
    token = bearer(services.settings, NGOZI, "customer")["Authorization"].split()[1]
    async with client.ws_connect(f"{WS}?access_token={token}") as ws:
        await ws.send_json(message_body(EMEKA, "hi"))
        refused = await ws.receive()
        assert refused.type is WSMsgType.TEXT
        assert "another phone" in refused.data
        await ws.send_json(message_body(NGOZI, "hi"))
        served = await ws.receive_json()
        assert served["options"]


def expired_token(settings: Settings) -> str:
    ten_days_ago = time.time() - 10 * 24 * 3600
    return TokenKeys.from_settings(settings).issue(
        Principal(NGOZI, Role.CUSTOMER), now=ten_days_ago
    )


@pytest.mark.parametrize(
    ("token", "why"),
    [(lambda _: "nope", "the token is not a valid JWT"), (expired_token, "the token has expired")],
    ids=["not-a-jwt", "expired"],
)
async def test_a_refused_token_is_told_in_plain_words_with_a_bearer_challenge(
    client: TestClient[Any, Any], services: Services, token: Any, why: str
) -> None:
    """An app sent a stale or mangled token: the 401 had no WWW-Authenticate (RFC 6750), so
    its HTTP client never knew to refresh the token, and said "invalid credentials: Not enough
    segments", PyJWT's words, which the app showed its user. The socket closed with them too."""
    bad = token(services.settings)

    refused = await client.post(
        MESSAGES, json=message_body(NGOZI, "hi"), headers={"Authorization": f"Bearer {bad}"}
    )

    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{why}"'
    )
    assert await refused.json() == {"error": f"invalid credentials: {why}"}
    async with client.ws_connect(f"{WS}?access_token={bad}") as ws:
        await ws.send_json(message_body(NGOZI, "hi"))
        assert await ws.receive_json(timeout=5) == {"error": f"invalid credentials: {why}"}
        closing = await ws.receive(timeout=5)
        assert (closing.data, closing.extra) == (4401, f"invalid credentials: {why}")


@pytest.fixture
async def production(
    database_url: str, clock: SteppedClock
) -> AsyncIterator[tuple[TestClient[Any, Any], Services]]:
    settings = Settings(
        env="production",
        database_url=database_url,
        channels="web",
        jwt_secret="a-production-secret-of-at-least-32-bytes",
        _env_file=None,
    )
    async with gateway(settings, clock) as pair:
        yield pair


async def test_production_web_chat_needs_a_token(
    production: tuple[TestClient[Any, Any], Services],
) -> None:
    client, services = production
    anonymous = await client.post(MESSAGES, json=message_body(NGOZI, "hi"))
    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"  # RFC 6750 §3.1: no error code
    signed = await client.post(
        MESSAGES,
        json=message_body(NGOZI, "hi"),
        headers=bearer(services.settings, NGOZI, "customer"),
    )
    assert signed.status == 200


async def test_production_closes_a_web_chat_socket_opened_without_a_token(
    production: tuple[TestClient[Any, Any], Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser that opened the chat socket without a token is told why, and the socket is
    closed with 4401 (sign in, then reconnect), instead of being held open refusing it all."""
    monkeypatch.setattr(channels.web.ws, "SIGN_IN_GRACE_SECONDS", 0.3)
    client, services = production
    async with client.ws_connect(WS) as ws:
        await ws.send_json(message_body(NGOZI, "hi"))
        assert await ws.receive_json(timeout=5) == {"error": SIGN_IN}
        closing = await ws.receive(timeout=5)
        assert closing.type is WSMsgType.CLOSE
        assert (closing.data, closing.extra) == (4401, SIGN_IN)

    # One that sends nothing is closed the same way once the grace period is over.
    async with client.ws_connect(WS) as ws:
        closing = await ws.receive(timeout=5)
        assert closing.type is WSMsgType.CLOSE
        assert (closing.data, closing.extra) == (4401, SIGN_IN)

    # A signed-in socket may stay quiet for as long as it likes.
    token = bearer(services.settings, NGOZI, "customer")["Authorization"].split()[1]
    async with client.ws_connect(f"{WS}?access_token={token}") as ws:
        await asyncio.sleep(0.6)
        await ws.send_json(message_body(NGOZI, "hi"))
        assert (await ws.receive_json(timeout=5))["options"]


async def test_stop_in_a_web_chat_stops_her_sms_only_with_her_own_token(
    client: TestClient[Any, Any], services: Services
) -> None:
    """Without a token (outside production) or with staff's, the chat only claims her number:
    anyone could type STOP for it, so her SMS go on and she is told where STOP works."""
    for headers in ({}, bearer(services.settings, "ops-1", "operator")):
        claimed = await client.post(MESSAGES, json=message_body(NGOZI, "STOP"), headers=headers)
        reply = await claimed.json()
        assert reply["text"].startswith("To stop texts, reply STOP to our SMS.\n"), reply
        assert reply["options"]  # the chat goes on, at the main menu
        customer = await services.customers.get(Phone(NGOZI))
        assert customer is None or not customer.opted_out

    own = await client.post(
        MESSAGES,
        json=message_body(NGOZI, "STOP"),
        headers=bearer(services.settings, NGOZI, "customer"),
    )

    assert (await own.json())["text"] == (
        "You will get no more messages from OmniRoute. Send START to get them again."
    )
    customer = await services.customers.get(Phone(NGOZI))
    assert customer is not None
    assert customer.opted_out


async def test_start_in_a_web_chat_starts_her_sms_again_only_with_her_own_token(
    client: TestClient[Any, Any], services: Services
) -> None:
    """She stopped our SMS: a chat that only claims her number cannot start them again."""
    await services.customers.set_opted_out(Phone(NGOZI), opted_out=True)

    claimed = await client.post(MESSAGES, json=message_body(NGOZI, "START"))

    reply = await claimed.json()
    assert reply["text"].startswith("To get texts again, send START to our SMS number.\n"), reply
    customer = await services.customers.get(Phone(NGOZI))
    assert customer is not None
    assert customer.opted_out
    own = await client.post(
        MESSAGES,
        json=message_body(NGOZI, "START"),
        headers=bearer(services.settings, NGOZI, "customer"),
    )
    assert (await own.json())["text"].startswith("Welcome back: you will get order updates again.")
    customer = await services.customers.get(Phone(NGOZI))
    assert customer is not None
    assert not customer.opted_out
