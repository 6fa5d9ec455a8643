"""Catalogue use cases: browse a region's shelves and check what is available.

Categories and products change rarely and are read on almost every screen, so each region's
shelf is kept in memory for a short while (`shelf_ttl_seconds`); stock is always read fresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from cachetools import TTLCache

from core.clock import Clock, SystemClock
from core.db import Database
from core.region import RegionCode
from engines.catalogue.matching import match_products
from engines.catalogue.model import Category, Product, UnknownProductError
from engines.catalogue.repository import SqlCatalogueRepository, stock_available

ENGLISH = "en"  # the language of the catalogue's own names


@dataclass(frozen=True, slots=True)
class Shelf:
    categories: tuple[Category, ...]
    products: dict[str, Product]
    # sku -> locale -> other words for the product ("mchele"), for typed orders
    aliases: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def names(self, sku: str, locale: str | None) -> tuple[str, ...]:
        """The words a retailer may use for a product: its aliases in her language and in
        English (the catalogue's own names are English)."""
        by_locale = self.aliases.get(sku, {})
        languages = dict.fromkeys([locale or ENGLISH, ENGLISH])
        return tuple(alias for lang in languages for alias in by_locale.get(lang, ()))

    def in_category(self, category_id: str) -> list[Product]:
        return sorted(
            (p for p in self.products.values() if p.category_id == category_id),
            key=lambda p: (p.name, p.sku),
        )


class CatalogueService:
    def __init__(
        self, db: Database, clock: Clock | None = None, *, shelf_ttl_seconds: float = 60.0
    ) -> None:
        self._db = db
        self._shelves: TTLCache[RegionCode, Shelf] = TTLCache(
            maxsize=64, ttl=shelf_ttl_seconds, timer=(clock or SystemClock()).monotonic
        )
        self._loading: dict[RegionCode, asyncio.Future[Shelf]] = {}

    async def shelf(self, region: RegionCode) -> Shelf:
        shelf = self._shelves.get(region)
        if shelf is None:
            # When the shelf expires, every turn in flight wants it at once: one reads it.
            loading = self._loading.get(region)
            if loading is None:
                loading = asyncio.ensure_future(self._load_shelf(region))
                self._loading[region] = loading
                loading.add_done_callback(
                    lambda done: (
                        self._loading.pop(region) if self._loading.get(region) is done else None
                    )
                )
            shelf = await asyncio.shield(loading)
        return shelf

    async def _load_shelf(self, region: RegionCode) -> Shelf:
        async with self._db.transaction() as s:
            repo = SqlCatalogueRepository(s)
            shelf = Shelf(
                tuple(await repo.categories(region)),
                {p.sku: p for p in await repo.products(region)},
                await repo.aliases(region),
            )
        self._shelves[region] = shelf
        return shelf

    def forget(self) -> None:
        """Drop cached shelves (after loading a new catalogue)."""
        self._shelves.clear()
        self._loading.clear()

    async def categories(self, region: RegionCode) -> list[Category]:
        return list((await self.shelf(region)).categories)

    async def products(self, region: RegionCode, category_id: str) -> list[Product]:
        return (await self.shelf(region)).in_category(category_id)

    async def product(self, region: RegionCode, sku: str) -> Product:
        found = (await self.shelf(region)).products.get(sku)
        if found is None:
            raise UnknownProductError(sku)
        return found

    async def match(
        self, region: RegionCode, words: str, locale: str | None = None
    ) -> list[Product]:
        """The region's products a retailer's words name (typos forgiven), by name or by an
        alias in her language (`locale`) or English, best first; several when they are equally
        close, none when nothing is."""
        shelf = await self.shelf(region)
        aliases = {sku: shelf.names(sku, locale) for sku in shelf.products}
        return match_products(words, shelf.products.values(), aliases)

    async def available(self, region: RegionCode, sku: str) -> int:
        return await stock_available(self._db, region, sku)
