"""DataLoaders: a page of products reads its prices and stock in one batch, not one per row.

Each HTTP request gets its own, so what they keep lasts one answer; a WebSocket's last as long as
the socket, so they batch without keeping (`cache=False`): every answer is read then.
"""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from core.db import Database
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.availability import available_many
from engines.orders import Order, OrderService
from engines.payments import PaymentIntent, PaymentService
from engines.pricing import PricingService


def _by_region(keys: list[tuple[RegionCode, str]]) -> dict[RegionCode, list[str]]:
    grouped: dict[RegionCode, list[str]] = {}
    for code, sku in keys:
        grouped.setdefault(code, []).append(sku)
    return grouped


class PriceBySkuLoader(DataLoader[tuple[RegionCode, str], Money | None]):
    """Unit prices for every product on the page in one look-up per region.

    A signed-in customer sees, in their own region, their own prices (contract, then segment)
    as the USSD product list shows them; anyone else, and any other region, the list price.
    """

    def __init__(
        self,
        pricing: PricingService,
        customer: Phone | None = None,
        home: RegionCode | None = None,
        *,
        cache: bool = True,
    ) -> None:
        async def load(keys: list[tuple[RegionCode, str]]) -> list[Money | None]:
            found: dict[tuple[RegionCode, str], Money] = {}
            for code, skus in _by_region(keys).items():
                whose = customer if code is home else None
                for sku, money in (await pricing.list_prices(code, skus, customer=whose)).items():
                    found[code, sku] = money
            return [found.get(key) for key in keys]

        super().__init__(load_fn=load, cache=cache)


class AvailableBySkuLoader(DataLoader[tuple[RegionCode, str], int]):
    """Stock on the shelf for every product on the page: one query per region."""

    def __init__(self, db: Database, *, cache: bool = True) -> None:
        async def load(keys: list[tuple[RegionCode, str]]) -> list[int]:
            found: dict[tuple[RegionCode, str], int] = {}
            for code, skus in _by_region(keys).items():
                for sku, available in (await available_many(db, code, skus)).items():
                    found[code, sku] = available
            return [found.get(key, 0) for key in keys]

        super().__init__(load_fn=load, cache=cache)


class IntentsByOrderLoader(DataLoader[str, list[PaymentIntent]]):
    """The payment intents of every order on the page: one query, not one per order."""

    def __init__(self, payments: PaymentService, *, cache: bool = True) -> None:
        async def load(references: list[str]) -> list[list[PaymentIntent]]:
            found = await payments.for_orders(references)
            return [found.get(r.upper(), []) for r in references]

        super().__init__(load_fn=load, cache=cache)


class OrderByReferenceLoader(DataLoader[str, Order | None]):
    """The orders of every stop on a page of a driver's tasks: one read, not one per stop."""

    def __init__(self, orders: OrderService, *, cache: bool = True) -> None:
        async def load(references: list[str]) -> list[Order | None]:
            found = await orders.many(references)
            return [found.get(r.upper()) for r in references]

        super().__init__(load_fn=load, cache=cache)
