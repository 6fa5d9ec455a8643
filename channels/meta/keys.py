"""Typed keys of the Meta sub-app."""

from __future__ import annotations

from aiohttp import web
from pydantic import SecretStr

from channels.meta.user_ids import UserIdReplies
from core.messages import ChannelContext

CONTEXT = web.AppKey("context", ChannelContext)
APP_SECRET: web.AppKey[SecretStr | None] = web.AppKey("app_secret")
VERIFY_TOKEN: web.AppKey[SecretStr | None] = web.AppKey("verify_token")
PHONE_NUMBER_ID: web.AppKey[str | None] = web.AppKey("phone_number_id")
MAX_BODY = web.AppKey("max_body", int)
USER_ID_REPLIES = web.AppKey("user_id_replies", UserIdReplies)
