"""Pricing use case: quote a cart for a region, the same way for every channel."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.money import Money
from core.region import RegionCode, region
from engines.catalogue import SqlCatalogueRepository, UnknownProductError
from engines.pricing.model import QuoteItem
from engines.pricing.quote import Quote, quote
from engines.pricing.repository import SqlPriceRepository


class PricingService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def quote(self, region_code: RegionCode, lines: Sequence[tuple[str, int]]) -> Quote:
        async with self._db.transaction() as s:
            return await self.quote_in(s, region_code, lines)

    async def list_prices(self, region_code: RegionCode, skus: Sequence[str]) -> dict[str, Money]:
        """The list price per unit, for browsing; tiers and promotions show in the quote."""
        async with self._db.transaction() as s:
            entries = await SqlPriceRepository(s).prices(region_code, skus)
        return {sku: Money(e.unit_price, e.currency) for sku, e in entries.items()}

    async def quote_in(
        self, session: AsyncSession, region_code: RegionCode, lines: Sequence[tuple[str, int]]
    ) -> Quote:
        """Quote inside the caller's transaction (placing an order prices what it reserves)."""
        skus = [sku for sku, _ in lines]
        products = await SqlCatalogueRepository(session).products_by_sku(region_code, skus)
        repo = SqlPriceRepository(session)
        prices = await repo.prices(region_code, skus)
        now = self._clock.now()
        promotions = await repo.live_promotions(region_code, now)
        items = []
        for sku, quantity in lines:
            product = products.get(sku)
            if product is None:
                raise UnknownProductError(sku)
            items.append(QuoteItem(sku, product.name, product.category_id, quantity))
        market = region(region_code)
        return quote(
            items, prices, promotions, currency=market.currency, vat_rate=market.vat_rate, now=now
        )
