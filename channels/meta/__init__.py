"""The meta channel (being built: see issue 4)."""

from __future__ import annotations

from aiohttp import web

from core.config import Settings
from core.messages import ChannelContext, MessageSender


def make_app(ctx: ChannelContext, settings: Settings) -> web.Application:
    return web.Application()


def make_sender(settings: Settings) -> MessageSender | None:
    return None
