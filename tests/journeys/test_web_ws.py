"""Web chat over GET /channels/web/ws: the same conversation, one open socket."""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from tests.contract.channels.web.chat import WS, SocketChat, WebChat, key_for, labels

NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
INDOMIE = "NDL-INDO-CHK"

Client = TestClient[object, object]


async def test_whole_order_over_a_websocket_and_the_socket_stays_open_after_it(
    client: Client, services: Services
) -> None:
    async with client.ws_connect(WS) as ws:
        chat = SocketChat(ws, NGOZI.e164)
        assert (await chat.send("hi"))["text"] == "Welcome to OmniRoute"
        await chat.choose("Shop")
        await chat.choose("Noodles")
        await chat.choose("Indomie Chicken")
        assert (await chat.send("3"))["text"].startswith("Added 3 x Indomie Chicken 40x70g.")
        await chat.choose("Checkout")
        await chat.choose("Choose payment")
        await chat.choose("Pay on delivery")

        done = await chat.choose("Confirm")

        orders = await services.orders.recent(NGOZI)
        assert len(orders) == 1
        assert done == {
            "text": f"Order {orders[0].reference} placed. Total NGN 26,993.25. "
            "Pay NGN 26,993.00 in cash at the door. Thank you!",
            "options": [],
            "end": True,
        }
        assert not ws.closed
        # The next message on the same socket starts over.
        again = await chat.send("hi")
        assert again["text"] == "Welcome to OmniRoute"
        assert "Cart (0)" in labels(again)


async def test_socket_and_post_share_one_conversation_per_phone(client: Client) -> None:
    """The app may fall back to POST when the socket drops: it carries on where it was."""
    async with client.ws_connect(WS) as ws:
        socket = SocketChat(ws, NGOZI.e164)
        await socket.send("hi")
        await socket.choose("Shop")

    posted = await WebChat(client, NGOZI.e164).send(key_for(socket.reply, "Noodles"))

    assert posted["text"] == "Noodles & Pasta:"


async def test_a_reply_lost_on_the_socket_is_resent_over_post_and_applied_once(
    client: Client, services: Services
) -> None:
    async with client.ws_connect(WS) as ws:
        socket = SocketChat(ws, NGOZI.e164)
        await socket.send("hi")
        await socket.choose("Shop")
        await socket.choose("Noodles")
        await socket.choose("Indomie Chicken")
        added = await socket.send("3", id="q-1")

    resent = await WebChat(client, NGOZI.e164).send("3", id="q-1")

    assert resent == added
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 3


async def test_two_phones_on_two_sockets_keep_their_own_conversations(client: Client) -> None:
    async with client.ws_connect(WS) as first, client.ws_connect(WS) as second:
        ngozi = SocketChat(first, NGOZI.e164)
        juma = SocketChat(second, "+254711000001")
        await ngozi.send("hi")
        await juma.send("hi")

        shop = await ngozi.choose("Shop")
        nunua = await juma.choose("Nunua")

    assert shop["text"] == "Choose a category:"
    assert nunua["text"] != shop["text"]
    assert "Welcome" not in nunua["text"]


async def test_shutting_down_closes_open_sockets_with_going_away_at_once(client: Client) -> None:
    """A restart (SIGTERM, Ctrl+C) must not wait for chat sockets, nor drop them without a code:
    the app reconnects on 1001, and the gateway exits inside Kubernetes' grace period."""
    async with client.ws_connect(WS) as ws:
        await SocketChat(ws, NGOZI.e164).send("hi")

        await asyncio.wait_for(client.server.close(), timeout=5)

        closing = await ws.receive(timeout=5)
        assert closing.type is WSMsgType.CLOSE
        assert closing.data == WSCloseCode.GOING_AWAY
