"""Compose the apps' API (GraphQL, OAuth token endpoint) and the rate limits onto the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import channels.graphql
from channels.graphql import GraphQLServices, OrderUpdates, TokenKeys
from core.app.bootstrap import Services
from core.app.throttle import PhoneThrottle, open_token_buckets
from core.ids import RandomIds
from core.messages import ChannelContext
from core.throttle import RateLimit, TokenBuckets
from engines.access import AccessService
from engines.orders.history import OrderHistory


def graphql_services(services: Services, buckets: TokenBuckets) -> GraphQLServices:
    settings = services.settings
    updates = OrderUpdates()
    updates.subscribe_to(services.bus)
    return GraphQLServices(
        settings=settings,
        clock=services.clock,
        catalogue=services.catalogue,
        pricing=services.pricing,
        orders=services.orders,
        history=OrderHistory(services.db),
        access=AccessService(services.db, services.clock, RandomIds()),
        keys=TokenKeys.from_settings(settings),
        buckets=buckets,
        updates=updates,
        db=services.db,
    )


def open_buckets(services: Services) -> TokenBuckets:
    """The rate limiter's buckets, beside the sessions (OMNIROUTE_SESSION_URL)."""
    return open_token_buckets(services.settings.session_url, services.clock)


def guard_channels(services: Services, buckets: TokenBuckets) -> ChannelContext:
    """The channels' context, with `handle` limited per phone number."""
    settings = services.settings
    per_phone = RateLimit(settings.rate_limit_phone_per_second, settings.rate_limit_phone_burst)
    throttle = PhoneThrottle(services.pipeline.handle, buckets, per_phone, services.translate)
    return throttle.guard(services.channel_context())


def mount_api(app: web.Application, services: Services, buckets: TokenBuckets) -> GraphQLServices:
    """/graphql and /oauth/token with their guard; closes the buckets with the app."""
    api = graphql_services(services, buckets)
    channels.graphql.mount(app, api)

    async def close_buckets(_app: web.Application) -> AsyncIterator[None]:
        yield
        await buckets.close()

    app.cleanup_ctx.append(close_buckets)
    return api
