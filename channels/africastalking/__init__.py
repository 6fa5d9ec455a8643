"""Africa's Talking: USSD, SMS (in by callback, out through the messaging API) and voice."""

from __future__ import annotations

from aiohttp import web

from channels.africastalking.allowlist import parse_networks
from channels.africastalking.auth import (
    callback_token,
    callback_token_middleware,
    source_address_middleware,
)
from channels.africastalking.keys import (
    ALLOWED_NETWORKS,
    CALLBACK_TOKEN,
    HANDLE,
    MAX_BODY,
    PUBLIC_URL,
    QUEUE_OUTBOUND,
    REPORT_DELIVERY,
    TRANSLATE,
)
from channels.africastalking.sender import AfricasTalkingSmsSender
from channels.africastalking.sms import sms, sms_delivery
from channels.africastalking.ussd import ussd, ussd_event
from channels.africastalking.voice import voice
from core.config import Settings
from core.messages import ChannelContext, MessageSender


def make_app(ctx: ChannelContext, settings: Settings) -> web.Application:
    """Raises MissingCallbackTokenError in production without a callback token, and ValueError
    for an OMNIROUTE_AFRICASTALKING_ALLOWED_IPS entry that is not an address or network."""
    # The source check runs first: a caller from elsewhere learns nothing about the token.
    app = web.Application(middlewares=[source_address_middleware, callback_token_middleware])
    app[HANDLE] = ctx.handle
    app[QUEUE_OUTBOUND] = ctx.queue_outbound
    app[REPORT_DELIVERY] = ctx.report_delivery
    app[TRANSLATE] = ctx.translate
    app[CALLBACK_TOKEN] = callback_token(settings)
    app[ALLOWED_NETWORKS] = parse_networks(settings.africastalking_allowed_ips)
    app[PUBLIC_URL] = settings.public_url
    app[MAX_BODY] = ctx.max_body
    app.router.add_post("/ussd", ussd)
    app.router.add_post("/ussd/events", ussd_event)
    app.router.add_post("/sms", sms)
    app.router.add_post("/sms/delivery", sms_delivery)
    app.router.add_post("/voice", voice)
    return app


def make_sender(settings: Settings) -> MessageSender | None:
    """The SMS sender, once an API key is configured; without one nothing is sent."""
    if settings.africastalking_api_key is None:
        return None
    return AfricasTalkingSmsSender(
        api_url=settings.africastalking_api_url,
        username=settings.africastalking_username,
        api_key=settings.africastalking_api_key,
        sender_id=settings.africastalking_sender_id,
    )
