"""Pricing use case: quote a cart for a region, the same way for every channel.

A region's price list and promotions are kept in memory for a short while
(`book_ttl_seconds`), so browsing and quoting cost no database round trip; placing an order
prices through the same book, so the total placed is the total quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import TTLCache

from core.clock import Clock
from core.db import Database
from core.money import Money
from core.region import RegionCode, region
from engines.catalogue import CatalogueService, UnknownProductError
from engines.pricing.model import PriceEntry, Promotion, QuoteItem
from engines.pricing.quote import Quote, quote
from engines.pricing.repository import SqlPriceRepository


@dataclass(frozen=True, slots=True)
class PriceBook:
    prices: dict[str, PriceEntry]
    promotions: tuple[Promotion, ...]


class PricingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: CatalogueService,
        *,
        book_ttl_seconds: float = 30.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._catalogue = catalogue
        self._books: TTLCache[RegionCode, PriceBook] = TTLCache(
            maxsize=64, ttl=book_ttl_seconds, timer=clock.monotonic
        )

    async def book(self, region_code: RegionCode) -> PriceBook:
        book = self._books.get(region_code)
        if book is None:
            async with self._db.transaction() as s:
                repo = SqlPriceRepository(s)
                book = PriceBook(
                    await repo.all_prices(region_code),
                    tuple(await repo.promotions(region_code)),
                )
            self._books[region_code] = book
        return book

    def forget(self) -> None:
        self._books.clear()

    async def list_prices(self, region_code: RegionCode, skus: Sequence[str]) -> dict[str, Money]:
        """The list price per unit, for browsing; tiers and promotions show in the quote."""
        prices = (await self.book(region_code)).prices
        return {
            sku: Money(prices[sku].unit_price, prices[sku].currency)
            for sku in skus
            if sku in prices
        }

    async def quote(self, region_code: RegionCode, lines: Sequence[tuple[str, int]]) -> Quote:
        book = await self.book(region_code)
        items = []
        for sku, quantity in lines:
            product = await self._catalogue.product(region_code, sku)
            items.append(QuoteItem(sku, product.name, product.category_id, quantity))
        market = region(region_code)
        return quote(
            items,
            book.prices,
            book.promotions,
            currency=market.currency,
            vat_rate=market.vat_rate,
            now=self._clock.now(),
        )


__all__ = ["PriceBook", "PricingService", "UnknownProductError"]
