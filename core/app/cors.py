"""CORS for browser apps on other origins: /graphql and web chat's POST (aiohttp-cors).

Only the origins in OMNIROUTE_CORS_ORIGINS are answered, and never with credentials allowed:
apps send their token in `Authorization`, not cookies, so a page on another site cannot borrow a
signed-in user's session. With no origin configured nothing is added, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import aiohttp_cors
from aiohttp import web

# What apps send: JSON, and the credentials (a JWT or an API key).
ALLOWED_HEADERS: Final = ("Content-Type", "Authorization", "X-API-Key")
# A 429 says when to come back; a browser shows the app only the headers listed here.
EXPOSED_HEADERS: Final = ("Retry-After",)
PREFLIGHT_CACHE_SECONDS: Final = 600


def allow_origins(app: web.Application, origins: Iterable[str], paths: Iterable[str]) -> None:
    """CORS on `app`'s GET and POST routes at `paths`, for `origins` only; none: nothing."""
    allowed = tuple(origins)
    if not allowed:
        return
    wanted = frozenset(paths)
    # ResourceOptions' fields, as the mapping setup() also takes (its constructor is untyped);
    # the methods allowed are the routes' own (GET and POST), each checked on the preflight.
    options = {
        "allow_credentials": False,
        "expose_headers": EXPOSED_HEADERS,
        "allow_headers": ALLOWED_HEADERS,
        "max_age": PREFLIGHT_CACHE_SECONDS,
    }
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(allowed, options))
    for route in list(app.router.routes()):
        resource = route.resource
        if (
            resource is not None
            and resource.canonical in wanted
            and route.method in ("GET", "POST")
        ):
            cors.add(route)
