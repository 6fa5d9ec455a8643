"""Typed keys of the web chat sub-app."""

from aiohttp import web

from channels.web.auth import Authorize
from core.messages import Handler

HANDLE: web.AppKey[Handler] = web.AppKey("handle")
AUTHORIZE: web.AppKey[Authorize] = web.AppKey("authorize")
MAX_BODY = web.AppKey("max_body", int)
