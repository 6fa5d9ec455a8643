"""Who may speak for a phone number: the hook issue 5's JWT check plugs into.

Nothing authenticates web chat yet, so anyone can write as any number (`anyone` below). When
GraphQL auth lands, an `Authorize` that checks the bearer token's subject against `user` is
passed to `make_app`; POST and WebSocket both ask it before a message reaches the pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core.phone import Phone


@dataclass(frozen=True, slots=True)
class Denied:
    """Why a message was refused: 401 without valid credentials, 403 for someone else's phone."""

    status: int
    reason: str


Authorize = Callable[[web.Request, Phone], Awaitable[Denied | None]]
"""(the HTTP request or WebSocket handshake, the phone the message claims) -> None to allow."""


async def anyone(_request: web.Request, _user: Phone) -> Denied | None:
    """No authentication yet (issue 5): every claimed phone is accepted."""
    return None
