"""Twilio signs every webhook: an HMAC of the URL it called and the form fields, keyed by the
account's Auth Token (`X-Twilio-Signature`). The check is the SDK's own `RequestValidator`.

Twilio signs the URL as it was configured, so behind a proxy the URL this server sees is not the
one signed: with `OMNIROUTE_PUBLIC_URL` set, the check uses it plus the path and query as
received; otherwise the request's own URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import MultiDict
from pydantic import SecretStr
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from channels.edge import BodyTooLargeError, bad_request, read_bounded, too_large
from channels.twilio.keys import BODY
from core.config import SettingError, Settings

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
AUTH_TOKEN_VARIABLE = "OMNIROUTE_TWILIO_AUTH_TOKEN"  # noqa: S105 - its name, not its value

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class MissingAuthTokenError(SettingError):
    """Production without the Auth Token would answer anyone who posts a Twilio-shaped form."""


def auth_token(settings: Settings) -> SecretStr | None:
    """The token webhooks are checked with; None (unchecked) is allowed only outside production."""
    token = settings.twilio_auth_token
    if token is not None and token.get_secret_value():
        return token
    if settings.production:
        raise MissingAuthTokenError(
            f"{AUTH_TOKEN_VARIABLE} is not set: in production every Twilio webhook must carry a "
            "valid X-Twilio-Signature, which is checked with the account's Auth Token. Set "
            f"{AUTH_TOKEN_VARIABLE} (and OMNIROUTE_PUBLIC_URL behind a proxy)."
        )
    return None


def origin(request: web.Request, public_url: str | None) -> str:
    """Scheme and host Twilio calls: OMNIROUTE_PUBLIC_URL when set, else as received."""
    return public_url.rstrip("/") if public_url else f"{request.scheme}://{request.host}"


def signed_url(request: web.Request, public_url: str | None) -> str:
    """The URL Twilio called, query string included, percent-encoding as it was sent."""
    return origin(request, public_url) + request.raw_path


def signature_middleware(
    token: SecretStr | None, public_url: str | None, max_body: int
) -> Middleware:
    validator = RequestValidator(token.get_secret_value()) if token is not None else None
    if validator is None:
        log.warning("twilio.webhooks_unsigned", reason=f"{AUTH_TOKEN_VARIABLE} is not set")

    @web.middleware
    async def check_signature(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            body = await read_bounded(request, max_body)
        except BodyTooLargeError:
            return too_large(max_body)
        if validator is not None:
            try:
                fields = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError as exc:
                return bad_request(exc)
            given = request.headers.get(SIGNATURE_HEADER, "")
            url = signed_url(request, public_url)
            if not given or not validator.validate(url, fields, given):
                log.warning("twilio.bad_signature", url=url, signed=bool(given))
                return web.Response(
                    status=403, text=f"Forbidden: missing or wrong {SIGNATURE_HEADER}\n"
                )
        request[BODY] = body
        return await handler(request)

    return check_signature
