"""Typed keys of the Africa's Talking sub-app."""

from aiohttp import web
from pydantic import SecretStr

from core.messages import Handler

HANDLE: web.AppKey[Handler] = web.AppKey("handle")
CALLBACK_TOKEN: web.AppKey[SecretStr | None] = web.AppKey("callback_token")
MAX_BODY = web.AppKey("max_body", int)
