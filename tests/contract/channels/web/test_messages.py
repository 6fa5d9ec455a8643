"""POST /channels/web/messages with the stored bodies: what we answer and what each one changes.

The bodies live in fixtures/*.json (see fixtures/SOURCES.md). Every reply is checked for
interfaces.md's exact shape; every refusal is a JSON `{"error": …}` that changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import channels.web
from channels.web import Denied
from core.app.bootstrap import Services
from core.phone import Phone
from tests.contract.channels.web.cases import (
    CASES,
    MAIN_MENU,
    MAX_BODY,
    NGOZI,
    Client,
    IncomingCase,
    padded,
    session_of,
    stored,
)
from tests.contract.channels.web.chat import MESSAGES, WS, assert_reply_shape, message_body
from tests.support.phone import database_rows

JSON = {"Content-Type": "application/json"}


async def post(client: Client, body: bytes) -> tuple[int, Any]:
    response = await client.post(MESSAGES, data=body, headers=JSON)
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


def test_stored_bodies_are_the_documented_shape() -> None:
    assert json.loads(stored("first_message")) == message_body(NGOZI.e164, "hi")
    assert json.loads(stored("with_client_id")) == message_body(
        NGOZI.e164, "hi", id="3f1c9a2e-7b4d-4e8a-9c1f-0d2e5b6a7c8d"
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.fixture}-after-{len(c.after)}" for c in CASES])
async def test_web_message_body(client: Client, services: Services, case: IncomingCase) -> None:
    for earlier in case.after:
        assert (await post(client, stored(earlier)))[0] == 200
    rows_before = await database_rows(services.db)

    status, body = await post(client, stored(case.fixture))

    assert status == case.status, body
    assert body == case.body
    if status == 200:
        assert_reply_shape(body)
    # Chat turns write nothing to the database until a cart or an order changes.
    assert await database_rows(services.db) == rows_before
    session = await session_of(services)
    assert (session and session.state) == case.session_state


async def test_a_body_that_is_not_utf8_is_a_400(client: Client, services: Services) -> None:
    status, body = await post(client, b'{"user": "+2348030000001", "text": "\xff"}')

    assert (status, body) == (400, {"error": "the body is not UTF-8"})
    assert await session_of(services) is None


async def test_text_with_control_characters_is_a_400(client: Client, services: Services) -> None:
    status, body = await post(client, json.dumps(message_body(NGOZI.e164, "1\u0000")).encode())

    assert (status, body) == (400, {"error": "text must not contain control characters"})
    assert await session_of(services) is None


async def test_the_phone_is_read_in_e164_whatever_the_spacing(
    client: Client, services: Services
) -> None:
    status, body = await post(client, json.dumps(message_body("+234 803 000 0001", "hi")).encode())

    assert (status, body) == (200, MAIN_MENU)
    assert await session_of(services, NGOZI) is not None


# --- the body limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_8_kib_is_refused_with_413_and_changes_nothing(
    client: Client, services: Services, *, chunked: bool
) -> None:
    body = padded(MAX_BODY + 1)
    rows_before = await database_rows(services.db)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    response = await client.post(MESSAGES, data=stream() if chunked else body, headers=JSON)

    assert response.status == 413
    assert await response.json() == {"error": "the body is larger than 8192 bytes"}
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_body_of_exactly_8_kib_is_accepted(client: Client, services: Services) -> None:
    status, body = await post(client, padded(MAX_BODY))

    assert (status, body) == (200, MAIN_MENU)
    assert await session_of(services) is not None


# --- the authorization hook (issue 5 plugs JWT in here) ----------------------------------------


@pytest.fixture
async def guarded(services: Services) -> AsyncIterator[tuple[Client, list[Phone]]]:
    """The web sub-app with an `authorize` that lets only Ngozi's own phone through."""
    asked: list[Phone] = []

    async def only_ngozi(request: web.Request, user: Phone | None) -> Denied | None:
        if user is not None:
            asked.append(user)
        if request.headers.get("Authorization") != "Bearer ngozi":
            return Denied(401, "sign in first")
        return (
            None if user in (None, NGOZI) else Denied(403, "you may only write as your own phone")
        )

    app = web.Application()
    sub = channels.web.make_app(services.channel_context(), services.settings, authorize=only_ngozi)
    app.add_subapp("/channels/web", sub)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, asked


async def test_authorize_hook_refuses_before_anything_changes(
    guarded: tuple[Client, list[Phone]], services: Services
) -> None:
    client, asked = guarded
    rows_before = await database_rows(services.db)

    anonymous = await client.post(MESSAGES, data=stored("first_message"), headers=JSON)
    other = await client.post(
        MESSAGES,
        json=message_body("+254711000001", "hi"),
        headers={"Authorization": "Bearer ngozi"},
    )

    assert anonymous.status == 401
    assert await anonymous.json() == {"error": "sign in first"}
    assert other.status == 403
    assert await other.json() == {"error": "you may only write as your own phone"}
    assert asked == [NGOZI, Phone("+254711000001")]
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None
    assert await session_of(services, Phone("+254711000001")) is None


async def test_authorize_hook_lets_the_right_user_through(
    guarded: tuple[Client, list[Phone]], services: Services
) -> None:
    client, _asked = guarded

    response = await client.post(
        MESSAGES, data=stored("first_message"), headers={"Authorization": "Bearer ngozi", **JSON}
    )

    assert response.status == 200
    assert await response.json() == MAIN_MENU
    assert await session_of(services) is not None


async def test_authorize_hook_guards_websocket_frames_too(
    guarded: tuple[Client, list[Phone]], services: Services
) -> None:
    client, _asked = guarded

    async with client.ws_connect(WS) as ws:
        await ws.send_bytes(stored("first_message"))
        await ws.send_str(stored("first_message").decode())
        assert await ws.receive_json(timeout=10) == {
            "error": "send each message as a text frame of JSON"
        }
        assert await ws.receive_json(timeout=10) == {"error": "sign in first"}
    async with client.ws_connect(WS, headers={"Authorization": "Bearer ngozi"}) as ws:
        await ws.send_str(stored("first_message").decode())
        assert await ws.receive_json(timeout=10) == MAIN_MENU
