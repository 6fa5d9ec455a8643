"""Typed keys of the web chat sub-app."""

import weakref

from aiohttp import web

from channels.web.auth import Authorize
from core.messages import Handler

HANDLE: web.AppKey[Handler] = web.AppKey("handle")
AUTHORIZE: web.AppKey[Authorize] = web.AppKey("authorize")
MAX_BODY = web.AppKey("max_body", int)
# The sockets open now, closed with 1001 (going away) when the gateway shuts down.
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")
