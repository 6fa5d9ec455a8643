"""Compose the apps' API (GraphQL, OAuth token endpoint) and the rate limits onto the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType

from aiohttp import web

import channels.graphql
import channels.web
from channels.graphql import GraphQLServices, OrderUpdates, TokenKeys
from channels.graphql.auth import InvalidTokenError, authenticate
from channels.web import PROVEN, Authorize, Denied, Proven
from core.app.bootstrap import Services
from core.app.throttle import PhoneThrottle, open_token_buckets
from core.app.workflows import stage_reader
from core.config import Settings
from core.ids import RandomIds
from core.messages import ChannelContext
from core.phone import Phone
from core.throttle import RateLimit, TokenBuckets
from engines.access import AccessService
from engines.orders import UnknownOrderError
from engines.orders.history import OrderHistory


def graphql_services(
    settings: Settings, services: Services, buckets: TokenBuckets
) -> GraphQLServices:
    """`settings` are create_app's (tests build services with other settings than the app's)."""

    async def read_status(reference: str) -> tuple[str, str] | None:
        try:
            order = await services.orders.get(reference)
        except UnknownOrderError:
            return None
        return str(order.customer), order.status.value

    updates = OrderUpdates(read_status)
    updates.subscribe_to(services.bus)
    return GraphQLServices(
        settings=settings,
        clock=services.clock,
        catalogue=services.catalogue,
        pricing=services.pricing,
        orders=services.orders,
        history=OrderHistory(services.db),
        access=AccessService(services.db, services.clock, RandomIds()),
        customers=services.customers,
        keys=TokenKeys.from_settings(settings),
        buckets=buckets,
        updates=updates,
        db=services.db,
        gig=services.gig,
        payments=services.payments,
        credit=services.money.credit if services.money is not None else None,
        invoices=services.money.invoices if services.money is not None else None,
        books=services.money.books if services.money is not None else None,
        stage_of=stage_reader(services.workflows),
    )


# Also the close reason of a web chat socket opened without one (a browser sets no headers there).
SIGN_IN = "sign in: send Authorization: Bearer <token> (a WebSocket: ?access_token=<token>)"


def invalid_token(why: str) -> str:
    """RFC 6750 §3's challenge for a refused token; its error_description holds printable
    ASCII without a quote or backslash (the reason may quote the token's own claims)."""
    description = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in why)
    return f'Bearer error="invalid_token", error_description="{description}"'


def web_chat_authorize(api: GraphQLServices) -> Authorize:
    """Web chat speaks for a phone: a token must be that phone's (or staff's).

    Browsers cannot set headers on a WebSocket, so `?access_token=` is read too. Outside
    production a chat without credentials is still let through (the simulator page, demos);
    in production it is refused with 401.
    """
    production = api.settings.production

    async def authorize(request: web.Request, user: Phone | None) -> Denied | Proven | None:
        authorization = request.headers.get("Authorization")
        token = request.query.get("access_token")
        if token and not authorization:
            authorization = f"Bearer {token}"
        try:
            principal = await authenticate(
                authorization,
                request.headers.get("X-API-Key"),
                api.keys,
                api.access,
            )
        except InvalidTokenError as exc:
            return Denied(401, f"invalid credentials: {exc}", invalid_token(str(exc)))
        if principal is None:
            # RFC 6750 §3.1: no credentials at all, no error code.
            return Denied(401, SIGN_IN, "Bearer") if production else None
        # The phone's own token, whatever its role (a driver chats as the shop's customer
        # too, as on USSD), or staff's: GraphQL's may_act_for refused a driver their own phone.
        if user is not None and principal.subject == user.e164:
            return PROVEN
        if user is not None and not principal.is_staff:
            return Denied(403, "this token speaks for another phone number")
        return None

    return authorize


def channel_app(
    provider: ModuleType, context: ChannelContext, api: GraphQLServices
) -> web.Application:
    """A provider's sub-app; web chat gets the token check."""
    settings = api.settings
    if provider is channels.web:
        return channels.web.make_app(context, settings, authorize=web_chat_authorize(api))
    app: web.Application = provider.make_app(context, settings)
    return app


def open_buckets(settings: Settings, services: Services) -> TokenBuckets:
    """The rate limiter's buckets, beside the sessions (OMNIROUTE_SESSION_URL)."""
    return open_token_buckets(settings.session_url, services.clock)


def guard_channels(
    settings: Settings, services: Services, buckets: TokenBuckets
) -> tuple[ChannelContext, PhoneThrottle]:
    """The channels' context, with `handle` limited per phone number, and that limit (whose
    refusals /metrics counts)."""
    per_phone = RateLimit(settings.rate_limit_phone_per_second, settings.rate_limit_phone_burst)
    throttle = PhoneThrottle(
        services.pipeline.handle,
        buckets,
        per_phone,
        services.translate,
        locale_of=services.pipeline.customer_locale,
    )
    return throttle.guard(services.channel_context()), throttle


def mount_api(app: web.Application, api: GraphQLServices) -> None:
    """/graphql and /oauth/token with their guard; closes the buckets with the app."""
    channels.graphql.mount(app, api)
    buckets = api.buckets

    async def close_buckets(_app: web.Application) -> AsyncIterator[None]:
        yield
        await buckets.close()

    app.cleanup_ctx.append(close_buckets)
