"""Typed keys of the Africa's Talking sub-app."""

from aiohttp import web
from pydantic import SecretStr

from core.messages import Handler

HANDLE = web.AppKey("handle", Handler)
CALLBACK_TOKEN = web.AppKey("callback_token", SecretStr | None)  # type: ignore[arg-type]
MAX_BODY = web.AppKey("max_body", int)
