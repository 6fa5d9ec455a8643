"""Africa's Talking: USSD today; SMS and voice callbacks join the same sub-app."""

from __future__ import annotations

from aiohttp import web
from pydantic import SecretStr

from channels.africastalking.auth import callback_token_middleware
from channels.africastalking.keys import CALLBACK_TOKEN, HANDLE, MAX_BODY
from channels.africastalking.ussd import ussd, ussd_event
from core.messages import Handler


def make_app(
    handle: Handler, *, callback_token: SecretStr | None, max_body: int
) -> web.Application:
    app = web.Application(middlewares=[callback_token_middleware])
    app[HANDLE] = handle
    app[CALLBACK_TOKEN] = callback_token
    app[MAX_BODY] = max_body
    app.router.add_post("/ussd", ussd)
    app.router.add_post("/ussd/events", ussd_event)
    return app
