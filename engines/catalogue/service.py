"""Catalogue use cases: browse a region's shelves and check what is available.

Categories and products change rarely and are read on almost every screen, so each region's
shelf is kept in memory for a short while (`shelf_ttl_seconds`); stock is always read fresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import TTLCache

from core.clock import Clock, SystemClock
from core.db import Database
from core.region import RegionCode
from engines.catalogue.availability import available_many as stock_available_many
from engines.catalogue.matching import match_products
from engines.catalogue.model import Category, Product, UnknownProductError
from engines.catalogue.repository import SqlCatalogueRepository, stock_available


@dataclass(frozen=True, slots=True)
class Shelf:
    categories: tuple[Category, ...]
    products: dict[str, Product]

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

    async def match(self, region: RegionCode, words: str) -> list[Product]:
        """The region's products a retailer's words name (typos forgiven), best first; several
        when they are equally close, none when nothing is."""
        return match_products(words, (await self.shelf(region)).products.values())

    async def available(self, region: RegionCode, sku: str) -> int:
        return await stock_available(self._db, region, sku)

    async def available_many(self, region: RegionCode, skus: Sequence[str]) -> dict[str, int]:
        """Units available per sku in one query (0 for a sku with no stock row): a cart's
        re-check reads all its lines at once."""
        return await stock_available_many(self._db, region, skus) if skus else {}
