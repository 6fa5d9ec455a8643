"""What every resolver gets: the engine services, the caller, and per-request DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from strawberry.dataloader import DataLoader

from channels.graphql.auth import TokenKeys
from channels.graphql.updates import OrderUpdates
from core.clock import Clock
from core.config import Settings
from core.db import Database
from core.money import Money
from core.region import RegionCode
from core.throttle import TokenBuckets
from engines.access import AccessService, Principal
from engines.catalogue import CatalogueService
from engines.catalogue.availability import available_many
from engines.orders import OrderService
from engines.orders.history import OrderHistory
from engines.pricing import PricingService


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
    keys: TokenKeys
    buckets: TokenBuckets
    updates: OrderUpdates
    db: Database


def _by_region(keys: list[tuple[RegionCode, str]]) -> dict[RegionCode, list[str]]:
    grouped: dict[RegionCode, list[str]] = {}
    for code, sku in keys:
        grouped.setdefault(code, []).append(sku)
    return grouped


class PriceBySkuLoader(DataLoader[tuple[RegionCode, str], Money | None]):
    """List prices for every product on the page in one look-up per region."""

    def __init__(self, pricing: PricingService) -> None:
        async def load(keys: list[tuple[RegionCode, str]]) -> list[Money | None]:
            found: dict[tuple[RegionCode, str], Money] = {}
            for code, skus in _by_region(keys).items():
                for sku, money in (await pricing.list_prices(code, skus)).items():
                    found[code, sku] = money
            return [found.get(key) for key in keys]

        super().__init__(load_fn=load)


class AvailableBySkuLoader(DataLoader[tuple[RegionCode, str], int]):
    """Stock on the shelf for every product on the page: one query per region."""

    def __init__(self, db: Database) -> None:
        async def load(keys: list[tuple[RegionCode, str]]) -> list[int]:
            found: dict[tuple[RegionCode, str], int] = {}
            for code, skus in _by_region(keys).items():
                for sku, available in (await available_many(db, code, skus)).items():
                    found[code, sku] = available
            return [found.get(key, 0) for key in keys]

        super().__init__(load_fn=load)


@dataclass(slots=True)
class Loaders:
    price: PriceBySkuLoader
    available: AvailableBySkuLoader


@dataclass(slots=True)
class GraphQLContext:
    services: GraphQLServices
    principal: Principal | None
    loaders: Loaders
    request: web.Request | None = None
    response: Any = None
    # graphql-transport-ws puts the connection_init payload here.
    connection_params: dict[str, Any] | None = field(default=None)

    @classmethod
    def build(
        cls,
        services: GraphQLServices,
        principal: Principal | None,
        request: web.Request | None = None,
        response: Any = None,
    ) -> GraphQLContext:
        loaders = Loaders(PriceBySkuLoader(services.pricing), AvailableBySkuLoader(services.db))
        return cls(services, principal, loaders, request, response)
