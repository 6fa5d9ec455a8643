"""GET /channels/web/ws with the stored bodies as text frames: one answer frame per frame.

Invalid frames get the same `{"error": …}` as the POST endpoint and the socket stays open; a
frame over the body limit is closed with 1009 (message too big) and changes nothing.
"""

from __future__ import annotations

import json

import pytest
from aiohttp import WSCloseCode, WSMsgType

import channels.web.ws
from core.app.bootstrap import Services
from tests.contract.channels.web.cases import (
    CASES,
    CATEGORIES,
    MAIN_MENU,
    MAX_BODY,
    NGOZI,
    Client,
    IncomingCase,
    padded,
    session_of,
    stored,
)
from tests.contract.channels.web.chat import WS, SocketChat, assert_reply_shape
from tests.support.phone import database_rows


@pytest.mark.parametrize("case", CASES, ids=[f"{c.fixture}-after-{len(c.after)}" for c in CASES])
async def test_web_message_frame(client: Client, services: Services, case: IncomingCase) -> None:
    async with client.ws_connect(WS) as ws:
        for earlier in case.after:
            await ws.send_str(stored(earlier).decode())
            assert "error" not in await ws.receive_json(timeout=10)
        rows_before = await database_rows(services.db)

        await ws.send_str(stored(case.fixture).decode())

        assert await ws.receive_json(timeout=10) == case.body
        assert await database_rows(services.db) == rows_before
        session = await session_of(services)
        assert (session and session.state) == case.session_state
        # Whatever the frame was, the socket is still open and answering.
        await ws.send_str(stored("first_message").decode())
        assert_reply_shape(await ws.receive_json(timeout=10))
        assert not ws.closed


async def test_answers_come_back_in_the_order_the_frames_were_sent(client: Client) -> None:
    async with client.ws_connect(WS) as ws:
        await ws.send_str(stored("first_message").decode())
        await ws.send_str(stored("missing_user").decode())
        await ws.send_str(stored("menu_choice").decode())

        answers = [await ws.receive_json(timeout=10) for _ in range(3)]

    assert answers == [MAIN_MENU, {"error": "user is required"}, CATEGORIES]


async def test_binary_frame_gets_an_error_frame_and_the_socket_stays_open(client: Client) -> None:
    async with client.ws_connect(WS) as ws:
        await ws.send_bytes(stored("first_message"))

        assert await ws.receive_json(timeout=10) == {
            "error": "send each message as a text frame of JSON"
        }
        chat = SocketChat(ws, NGOZI.e164)
        assert await chat.send("hi") == MAIN_MENU


async def test_frame_over_8_kib_closes_with_1009_and_changes_nothing(
    client: Client, services: Services
) -> None:
    rows_before = await database_rows(services.db)
    async with client.ws_connect(WS) as ws:
        await ws.send_str(padded(MAX_BODY + 1).decode())

        frame = await ws.receive(timeout=10)

        assert frame.type is WSMsgType.CLOSE
        assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_frame_of_exactly_8_kib_is_answered(client: Client, services: Services) -> None:
    async with client.ws_connect(WS) as ws:
        await ws.send_str(padded(MAX_BODY).decode())

        assert await ws.receive_json(timeout=10) == MAIN_MENU
    assert await session_of(services) is not None


async def test_plain_get_without_upgrade_is_told_to_use_a_websocket(client: Client) -> None:
    response = await client.get(WS)

    assert response.status == 426
    assert response.headers["Upgrade"] == "websocket"
    body = await response.json()
    assert body == {
        "error": "this URL speaks WebSocket: connect with an Upgrade: websocket request"
    }


async def test_a_peer_that_stops_answering_pings_is_dropped(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat: a phone that lost its network does not hold a socket for ever."""
    monkeypatch.setattr(channels.web.ws, "HEARTBEAT_SECONDS", 0.2)
    async with client.ws_connect(WS, autoping=False) as ws:
        ping = await ws.receive(timeout=5)
        assert ping.type is WSMsgType.PING  # ...which this client never answers

        closed = await ws.receive(timeout=5)

        assert closed.type in {WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING}


async def test_a_dropped_socket_mid_turn_still_applies_the_message_once(
    client: Client, services: Services
) -> None:
    """The app reconnects and resends with the same id: the stored reply, nothing applied twice."""
    body = json.dumps({**json.loads(stored("with_client_id")), "text": "hi"})
    async with client.ws_connect(WS) as ws:
        await ws.send_str(body)
    # The socket is gone; the turn may or may not have been applied. Resend on a new one.
    async with client.ws_connect(WS) as ws:
        await ws.send_str(body)
        assert await ws.receive_json(timeout=10) == MAIN_MENU
        await ws.send_str(stored("menu_choice").decode())
        assert await ws.receive_json(timeout=10) == CATEGORIES
    session = await session_of(services)
    assert session is not None
    assert session.state == "categories"
