"""Twilio: SMS and WhatsApp messaging webhooks answered in TwiML, the voice IVR, message status
callbacks, and the sender for messages that answer no webhook.

Every webhook is checked against `X-Twilio-Signature` (signature.py) before it is read.
"""

from __future__ import annotations

from aiohttp import web

from channels.twilio.keys import CONTEXT, PUBLIC_URL
from channels.twilio.messaging import sms, whatsapp
from channels.twilio.sender import TwilioSender
from channels.twilio.signature import auth_token, signature_middleware
from channels.twilio.status import status
from channels.twilio.voice import voice
from core.config import Settings
from core.messages import ChannelContext, MessageSender


def make_app(ctx: ChannelContext, settings: Settings) -> web.Application:
    """Raises MissingAuthTokenError in production when OMNIROUTE_TWILIO_AUTH_TOKEN is unset."""
    middleware = signature_middleware(auth_token(settings), settings.public_url, ctx.max_body)
    app = web.Application(middlewares=[middleware])
    app[CONTEXT] = ctx
    app[PUBLIC_URL] = settings.public_url
    app.router.add_post("/sms", sms)
    app.router.add_post("/whatsapp", whatsapp)
    app.router.add_post("/voice", voice)
    app.router.add_post("/status", status)
    return app


def make_sender(settings: Settings) -> MessageSender | None:
    return TwilioSender.from_settings(settings)
