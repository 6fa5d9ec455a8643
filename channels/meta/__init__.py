"""Meta's WhatsApp Cloud API: the webhook in (whatsapp.py), the Graph API out (sender.py).

Every POST is checked against `X-Hub-Signature-256` (signature.py) before it is read; in
production the channel refuses to start without OMNIROUTE_META_APP_SECRET.
"""

from __future__ import annotations

from aiohttp import web

from channels.meta.keys import (
    APP_SECRET,
    CONTEXT,
    MAX_BODY,
    PHONE_NUMBER_ID,
    USER_ID_REPLIES,
    VERIFY_TOKEN,
)
from channels.meta.sender import MetaWhatsAppSender
from channels.meta.signature import app_secret
from channels.meta.user_ids import UserIdReplies
from channels.meta.whatsapp import WEBHOOK_MAX_BYTES, verify, webhook
from core.config import Settings
from core.messages import ChannelContext, MessageSender


def make_app(ctx: ChannelContext, settings: Settings) -> web.Application:
    """Raises MissingAppSecretError in production when OMNIROUTE_META_APP_SECRET is unset."""
    app = web.Application()
    app[CONTEXT] = ctx
    app[APP_SECRET] = app_secret(settings)
    app[VERIFY_TOKEN] = settings.meta_verify_token
    app[PHONE_NUMBER_ID] = settings.meta_phone_number_id
    app[MAX_BODY] = WEBHOOK_MAX_BYTES
    replies = UserIdReplies(MetaWhatsAppSender.from_settings(settings, ctx.translate))
    app[USER_ID_REPLIES] = replies

    async def close_replies(_app: web.Application) -> None:
        await replies.close()

    app.on_cleanup.append(close_replies)
    app.router.add_get("/whatsapp", verify)
    app.router.add_post("/whatsapp", webhook)
    return app


def make_sender(settings: Settings) -> MessageSender | None:
    """The Graph API sender, once the access token and phone number id are configured."""
    return MetaWhatsAppSender.from_settings(settings)
