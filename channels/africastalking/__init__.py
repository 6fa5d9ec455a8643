"""Africa's Talking: USSD today; SMS and voice callbacks join the same sub-app."""

from __future__ import annotations

from aiohttp import web

from channels.africastalking.auth import callback_token_middleware
from channels.africastalking.keys import CALLBACK_TOKEN, HANDLE, MAX_BODY
from channels.africastalking.ussd import ussd, ussd_event
from core.config import Settings
from core.messages import ChannelContext, MessageSender


def make_app(ctx: ChannelContext, settings: Settings) -> web.Application:
    app = web.Application(middlewares=[callback_token_middleware])
    app[HANDLE] = ctx.handle
    app[CALLBACK_TOKEN] = settings.africastalking_callback_token
    app[MAX_BODY] = ctx.max_body
    app.router.add_post("/ussd", ussd)
    app.router.add_post("/ussd/events", ussd_event)
    return app


def make_sender(settings: Settings) -> MessageSender | None:
    return None
