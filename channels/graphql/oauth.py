"""POST /oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for partners.

Client authentication by HTTP Basic (client_secret_basic, preferred by §2.3.1) or by form
fields (client_secret_post); errors are the JSON of §5.2, with 401 and WWW-Authenticate when
the client failed Basic authentication.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from aiohttp import web
from aiohttp.typedefs import Handler

from channels.graphql.context import GraphQLServices

GRANT = "client_credentials"
HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(code: str, description: str, *, status: int = 400, basic: bool = False) -> web.Response:
    headers = dict(HEADERS)
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="omniroute"'
    return web.json_response(
        {"error": code, "error_description": description}, status=status, headers=headers
    )


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # §2.3.1: id and secret are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def token_endpoint(services: GraphQLServices) -> Handler:
    async def token(request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return _error("invalid_request", "send an application/x-www-form-urlencoded body")
        form = await request.post()
        authorization = request.headers.get("Authorization")
        basic = _basic(authorization) if authorization else None
        if authorization and basic is None:
            return _error("invalid_client", "malformed Basic credentials", status=401, basic=True)
        posted = (form.get("client_id"), form.get("client_secret"))
        if basic is not None and any(posted):
            return _error("invalid_request", "use one client authentication method, not two")
        if basic is None and not all(isinstance(v, str) and v for v in posted):
            return _error("invalid_client", "client authentication failed", status=401, basic=True)
        client_id, secret = basic if basic is not None else (str(posted[0]), str(posted[1]))
        grant = form.get("grant_type")
        if not grant:
            return _error("invalid_request", "grant_type is required")
        if grant != GRANT:
            return _error("unsupported_grant_type", f"only {GRANT} is supported")
        principal = await services.access.authenticate_client(client_id, secret)
        if principal is None:
            return _error("invalid_client", "client authentication failed", status=401, basic=True)
        scope = form.get("scope")
        if isinstance(scope, str) and scope.strip() and scope.strip() != principal.role.value:
            return _error("invalid_scope", f"this client may ask only for {principal.role.value}")
        # Wall-clock time: whoever verifies the token (pyjwt, a partner) checks it against theirs.
        access_token = services.keys.issue(principal)
        return web.json_response(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": services.keys.ttl_seconds,
                "scope": principal.role.value,
            },
            headers=HEADERS,
        )

    return token
