"""Africa's Talking signs nothing: callbacks prove themselves with a secret token in the URL."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import SecretStr

from channels.africastalking.keys import CALLBACK_TOKEN


@web.middleware
async def callback_token_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    expected: SecretStr | None = request.app[CALLBACK_TOKEN]
    if expected is not None:
        given = request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            return web.Response(status=403, text="Forbidden: bad or missing callback token\n")
    return await handler(request)
