"""What every resolver gets: the engine services, the caller, and per-request DataLoaders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from aiohttp import web

from channels.graphql.auth import Credentials, InvalidTokenError, TokenKeys, unauthenticated
from channels.graphql.loaders import (
    AvailableBySkuLoader,
    IntentsByOrderLoader,
    OrderByReferenceLoader,
    PriceBySkuLoader,
)
from channels.graphql.updates import OrderUpdates
from core.clock import Clock
from core.config import Settings
from core.db import Database
from core.phone import InvalidPhoneError, Phone
from core.region import RegionCode, UnsupportedRegionError, region_for_phone
from core.throttle import TokenBuckets
from engines.access import AccessService, Principal, Role
from engines.catalogue import CatalogueService
from engines.credit import CreditService
from engines.customers import CustomerService
from engines.gig import GigService
from engines.invoices import InvoiceService
from engines.ledger import Books
from engines.orders import OrderService
from engines.orders.history import OrderHistory
from engines.payments import PaymentService
from engines.pricing import PricingService

T = TypeVar("T")
# How often a quiet subscription checks that its API key was not revoked meanwhile.
RECHECK_SECONDS: Final = 60.0


@dataclass(frozen=True, slots=True)
class GraphQLServices:
    """Built once by the composition root (core.app.server) from its Services."""

    settings: Settings
    clock: Clock
    catalogue: CatalogueService
    pricing: PricingService
    orders: OrderService
    history: OrderHistory
    access: AccessService
    customers: CustomerService
    keys: TokenKeys
    buckets: TokenBuckets
    updates: OrderUpdates
    db: Database
    gig: GigService
    # Checkout beyond pay-on-delivery: the rails and the credit line (None: not offered).
    payments: PaymentService | None = None
    credit: CreditService | None = None
    invoices: InvoiceService | None = None
    # The books: the credit kept on a customer's account pays an order (ACCOUNT_CREDIT).
    books: Books | None = None
    # Where an order's fulfilment workflow is (Temporal's query), when workflows run.
    stage_of: Callable[[str], Awaitable[str | None]] | None = None


@dataclass(slots=True)
class Loaders:
    price: PriceBySkuLoader
    available: AvailableBySkuLoader
    orders: OrderByReferenceLoader
    intents: IntentsByOrderLoader | None = None


@dataclass(slots=True)
class GraphQLContext:
    services: GraphQLServices
    principal: Principal | None
    loaders: Loaders
    request: web.Request | None = None
    response: Any = None
    # graphql-transport-ws puts the connection_init payload here.
    connection_params: dict[str, Any] | None = field(default=None)
    # What a socket signed in with (upgrade headers or connection_init), checked again on
    # every operation and while a subscription runs: a token is not valid for ever.
    credentials: Credentials | None = None

    @classmethod
    def build(
        cls,
        services: GraphQLServices,
        principal: Principal | None,
        request: web.Request | None = None,
        response: Any = None,
    ) -> GraphQLContext:
        # A socket's context serves every operation on it, for as long as it is open.
        cache = not isinstance(response, web.WebSocketResponse)
        customer, home = _customer(principal)
        loaders = Loaders(
            PriceBySkuLoader(services.pricing, customer, home, cache=cache),
            AvailableBySkuLoader(services.db, cache=cache),
            OrderByReferenceLoader(services.orders, cache=cache),
        )
        if services.payments is not None:
            loaders.intents = IntentsByOrderLoader(services.payments, cache=cache)
        return cls(services, principal, loaders, request, response)

    async def still_signed_in(self) -> None:
        """UNAUTHENTICATED once the socket's token has expired or its API key (or OAuth client)
        was revoked."""
        if self.credentials is None:
            return
        services = self.services
        try:
            await self.credentials.authenticate(services.keys, services.access)
        except InvalidTokenError as exc:
            raise unauthenticated(f"sign in again, then resubscribe: {exc}") from exc

    async def while_signed_in(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """`items` until the socket's sign-in lapses: UNAUTHENTICATED at its token's expiry, or
        when a check (before each item, and every RECHECK_SECONDS) finds the key revoked."""
        expires = self.credentials.expires_at() if self.credentials is not None else None
        while True:
            wait = RECHECK_SECONDS
            if expires is not None:
                wait = max(min(wait, expires - time.time()), 0.05)
            try:
                item = await asyncio.wait_for(anext(items), wait)
            except TimeoutError:
                await self.still_signed_in()
                continue
            except StopAsyncIteration:
                return
            await self.still_signed_in()
            yield item


def _customer(principal: Principal | None) -> tuple[Phone | None, RegionCode | None]:
    """The signed-in customer's phone and home region, whose own prices the catalogue shows."""
    if principal is None or principal.role is not Role.CUSTOMER:
        return None, None
    try:
        phone = Phone.parse(principal.subject)
        return phone, region_for_phone(phone).code
    except (InvalidPhoneError, UnsupportedRegionError):
        return None, None
