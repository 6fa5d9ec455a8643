"""Web and mobile chat: JSON over HTTP, and the same messages over a WebSocket.

`authorize` checks who may speak for the message's phone (the gateway passes its token check).
"""

from __future__ import annotations

import weakref

from aiohttp import web

from channels.web.auth import PROVEN, Authorize, Denied, Proven, anyone
from channels.web.keys import AUTHORIZE, HANDLE, MAX_BODY, SOCKETS
from channels.web.messages import post_message
from channels.web.ws import close_sockets, websocket
from core.config import Settings
from core.messages import ChannelContext, MessageSender

__all__ = ["PROVEN", "Authorize", "Denied", "Proven", "make_app", "make_sender"]


def make_app(
    ctx: ChannelContext, settings: Settings, *, authorize: Authorize = anyone
) -> web.Application:
    app = web.Application()
    app[HANDLE] = ctx.handle
    app[MAX_BODY] = ctx.max_body
    app[AUTHORIZE] = authorize
    app[SOCKETS] = weakref.WeakSet()
    app.on_shutdown.append(close_sockets)
    app.router.add_post("/messages", post_message)
    app.router.add_get("/ws", websocket)
    return app


def make_sender(settings: Settings) -> MessageSender | None:
    """Web chat answers in the request (or on the open socket); nothing is sent later."""
    return None
