"""Who is calling: JWT bearer tokens (HS256/RS256), API keys, and the role checks.

API keys are read on every request, and so is the OAuth client a token was issued to (its
`client_id` claim): revoking either refuses the very next request. That holds for an outside
identity provider's token too when its `client_id` is one of our clients; an id we never issued
is not ours to refuse.

The algorithm is fixed by configuration, never by the token: a token whose header names an
algorithm without a configured key is refused (no `alg: none`, no RS256/HS256 confusion).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final, Protocol

import jwt
import structlog
from graphql import GraphQLError

from core.config import SettingError, Settings
from engines.access import API_KEY_PREFIX, CLIENT_CREDENTIAL, Principal, Role

log = structlog.get_logger(__name__)

# Used only outside production when no key is configured, so `make run` works with a token
# from `omniroute token`; production without a key accepts API keys only.
DEV_SECRET: Final = "omniroute-dev-secret-not-for-production"  # noqa: S105
LEEWAY_SECONDS: Final = 30
MIN_SECRET_BYTES: Final = 32  # RFC 7518 §3.2: an HS256 key as long as the hash


class WeakJwtSecretError(SettingError, ValueError):
    """An HS256 secret shorter than the hash: the gateway does not start with it."""


class InvalidTokenError(Exception):
    """A bearer token that is malformed, expired, wrongly signed or lacks sub/role."""


def refusal(error: jwt.PyJWTError) -> str:
    """Why a token was refused, said to the app's developer (and the person behind the app)
    rather than in PyJWT's words ("Not enough segments", "Signature has expired")."""
    match error:
        case jwt.ExpiredSignatureError():
            return "the token has expired"
        case jwt.ImmatureSignatureError():
            return "the token is not valid yet"
        case jwt.InvalidSignatureError():
            return "the token's signature does not match"
        case jwt.DecodeError():
            return "the token is not a valid JWT"
        case jwt.MissingRequiredClaimError(claim=claim):
            return f"the token has no {claim} claim"
        case jwt.InvalidAudienceError():
            return "the token was issued for another audience"
        case jwt.InvalidIssuerError():
            return "the token was issued by another issuer"
        case _:
            return "the token is not valid"


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """Verification keys per algorithm, and the key this gateway signs its own tokens with."""

    verify: dict[str, Any]
    sign_algorithm: str | None
    sign_key: Any
    issuer: str | None
    audience: str | None
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenKeys:
        verify: dict[str, Any] = {}
        sign_algorithm: str | None = None
        sign_key: Any = None
        if settings.jwt_public_key:
            verify["RS256"] = settings.jwt_public_key
            if settings.jwt_private_key is not None:
                sign_algorithm, sign_key = "RS256", settings.jwt_private_key.get_secret_value()
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise WeakJwtSecretError(
                f"OMNIROUTE_JWT_SECRET needs at least {MIN_SECRET_BYTES} bytes"
            )
        if secret is None and not verify and not settings.production:
            secret = DEV_SECRET
        if secret is not None:
            verify["HS256"] = secret
            if sign_algorithm is None:
                sign_algorithm, sign_key = "HS256", secret
        if not verify:
            log.warning("graphql.no_jwt_key", hint="set OMNIROUTE_JWT_SECRET or _PUBLIC_KEY")
        return cls(
            verify,
            sign_algorithm,
            sign_key,
            settings.jwt_issuer or None,
            settings.jwt_audience,
            settings.access_token_ttl_seconds,
        )

    def decode(self, token: str) -> Principal:
        return self.decode_with_client(token)[0]

    def decode_with_client(self, token: str) -> tuple[Principal, str | None]:
        """The caller, and the OAuth client its `client_id` claim names, as `client:<id>`
        (ours as `issue` writes it, or an identity provider's bare id): the gateway refuses a
        token of a client of ours that was revoked, whoever issued it."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self.verify.get(str(algorithm))
            if key is None:
                raise InvalidTokenError(f"algorithm {algorithm!r} is not accepted")
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
            client = claims.get("client_id")
            # Only a client of ours (`client:<id>`, as `issue` writes it); another issuer's
            # client_id names its app, which every one of its users shares.
            ours = (
                client if isinstance(client, str) and client.startswith(CLIENT_CREDENTIAL) else None
            )
            principal = Principal(
                str(claims["sub"]), Role(str(claims.get("role"))), credential=ours
            )
            named = f"{CLIENT_CREDENTIAL}{client}" if isinstance(client, str) and client else None
            return principal, ours or named
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(refusal(exc)) from exc
        except ValueError as exc:
            raise InvalidTokenError(str(exc)) from exc

    def issue(self, principal: Principal, *, now: float | None = None) -> str:
        if self.sign_algorithm is None:
            raise InvalidTokenError("no signing key configured (OMNIROUTE_JWT_SECRET)")
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "sub": principal.subject,
            "role": principal.role.value,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        if principal.credential:
            claims["client_id"] = principal.credential
        return jwt.encode(claims, self.sign_key, algorithm=self.sign_algorithm)


class CredentialCheck(Protocol):
    """What the gateway asks the stored credentials on every request (engines.access)."""

    async def authenticate_api_key(self, key: str) -> Principal | None: ...

    async def client_revoked(self, credential: str) -> bool: ...


async def authenticate(
    authorization: str | None, api_key: str | None, keys: TokenKeys, check: CredentialCheck
) -> Principal | None:
    """None for an anonymous call; raises InvalidTokenError for bad credentials."""
    if api_key:
        found = await check.authenticate_api_key(api_key.strip())
        if found is None:
            raise InvalidTokenError("unknown or revoked API key")
        return found
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials.startswith(API_KEY_PREFIX):
        return await authenticate(None, credentials, keys, check)
    if scheme.lower() != "bearer" or not credentials:
        raise InvalidTokenError("expected Authorization: Bearer <token>")
    principal, client = keys.decode_with_client(credentials)
    if client and await check.client_revoked(client):
        raise InvalidTokenError("the OAuth client this token was issued to is revoked")
    return principal


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a socket signed in with, kept to check again for as long as the socket is open."""

    authorization: str | None
    api_key: str | None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Credentials:
        """The credentials a WebSocket client sends in connection_init's payload (a browser
        cannot set a socket's headers): `Authorization` and `X-API-Key`, or `apiKey`, named in
        any case, at the top or under `headers` as Hasura's and gql-dart's clients send them
        (the top wins)."""
        fields = {str(name).lower(): value for name, value in params.items()}
        nested = fields.get("headers")
        if isinstance(nested, dict):
            fields = {str(name).lower(): value for name, value in nested.items()} | fields
        authorization = fields.get("authorization")
        api_key = fields.get("x-api-key") or fields.get("apikey")
        return cls(str(authorization) if authorization else None, str(api_key) if api_key else None)

    async def authenticate(self, keys: TokenKeys, check: CredentialCheck) -> Principal | None:
        """The caller now: raises InvalidTokenError once the token expired or the key (or the
        token's OAuth client) was revoked."""
        return await authenticate(self.authorization, self.api_key, keys, check)

    def expires_at(self) -> float | None:
        """When a bearer JWT stops being accepted (its `exp` and the leeway); None for keys."""
        if self.api_key or not self.authorization:
            return None
        _, _, token = self.authorization.strip().partition(" ")
        token = token.strip()
        if token.startswith(API_KEY_PREFIX):
            return None
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            return float(claims["exp"]) + LEEWAY_SECONDS
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return None


async def authenticate_params(
    params: dict[str, Any], keys: TokenKeys, check: CredentialCheck
) -> Principal | None:
    """The caller signed in by connection_init's payload (see `Credentials.from_params`)."""
    return await Credentials.from_params(params).authenticate(keys, check)


class ClientError(GraphQLError):
    """The error a GraphQL client expects: a message and `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


def unauthenticated(message: str = "sign in: send Authorization: Bearer <token>") -> ClientError:
    return ClientError("UNAUTHENTICATED", message)


def forbidden(message: str = "your role may not do this") -> ClientError:
    return ClientError("FORBIDDEN", message)


def require(principal: Principal | None, *roles: Role) -> Principal:
    """The caller, when signed in with one of `roles` (any role when none are named)."""
    if principal is None:
        raise unauthenticated()
    if roles and principal.role not in roles:
        raise forbidden()
    return principal


def may_act_for(principal: Principal, customer_e164: str) -> bool:
    """Customers act for their own phone only; agents, operators and admins for anyone."""
    return principal.is_staff or (
        principal.role is Role.CUSTOMER and principal.subject == customer_e164
    )
