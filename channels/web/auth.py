"""Who may speak for a phone number: the hook the apps' token check plugs into.

The gateway passes `core.app.api.web_chat_authorize` (the bearer token's subject must be
`user`, or staff; without a token only outside production); `anyone` below is the default for
a bare sub-app. POST and WebSocket both ask it before a message reaches the pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core.phone import Phone


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a message was refused: 401 without valid credentials, 403 for someone else's phone.
    `challenge` is a 401's WWW-Authenticate (RFC 9110 §11.6.1: a 401 carries one)."""

    status: int
    reason: str
    challenge: str | None = None


@dataclass(frozen=True, slots=True)
class Proven:
    """Allowed, and the credentials are the phone's own (its token's subject is that number):
    what the message asks of the phone's other channels (STOP for its SMS) may be done. A
    message merely allowed (no token outside production, staff's) claims the phone, no more."""


PROVEN = Proven()

Authorize = Callable[[web.Request, Phone | None], Awaitable[Denied | Proven | None]]
"""(the HTTP request or WebSocket handshake, the phone the message claims) -> None to allow,
PROVEN to allow as that phone's own. Without a phone (a WebSocket's handshake) it says only
whether the credentials may chat at all."""


async def anyone(_request: web.Request, _user: Phone | None) -> Denied | Proven | None:
    """Every claimed phone is accepted (a sub-app built without the gateway's check)."""
    return None
