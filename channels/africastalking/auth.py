"""Africa's Talking signs nothing: callbacks prove themselves with a secret token in the URL,
and optionally by coming from an allowed source address."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import SecretStr

from channels.africastalking.allowlist import is_allowed
from channels.africastalking.keys import ALLOWED_NETWORKS, CALLBACK_TOKEN
from core.config import SettingError, Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN_VARIABLE = "OMNIROUTE_AFRICASTALKING_CALLBACK_TOKEN"  # noqa: S105 - a name, not a secret


class MissingCallbackTokenError(SettingError):
    """Production without the token would answer anyone who posts an Africa's Talking form."""


def callback_token(settings: Settings) -> SecretStr | None:
    """The token callbacks must carry; None (unchecked) is allowed only outside production."""
    token = settings.africastalking_callback_token
    if token is not None and token.get_secret_value():
        return token
    if settings.production:
        raise MissingCallbackTokenError(
            f"{TOKEN_VARIABLE} is not set: in production every Africa's Talking callback must "
            f"carry ?token=<value>. Set {TOKEN_VARIABLE} and add ?token=<value> to the USSD, SMS, "
            "delivery-report and voice callback URLs in the Africa's Talking dashboard."
        )
    return None


@web.middleware
async def source_address_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    networks = request.app[ALLOWED_NETWORKS]
    if networks is not None and not is_allowed(request.remote, networks):
        return web.Response(status=403, text="Forbidden: source address not allowed\n")
    return await handler(request)


@web.middleware
async def callback_token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected: SecretStr | None = request.app[CALLBACK_TOKEN]
    if expected is not None:
        given = request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            return web.Response(status=403, text="Forbidden: bad or missing callback token\n")
    return await handler(request)
