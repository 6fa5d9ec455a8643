"""Catalogue use cases: browse a region's shelves and check what is available."""

from __future__ import annotations

from core.db import Database
from core.region import RegionCode
from engines.catalogue.model import Category, Product, UnknownProductError
from engines.catalogue.repository import SqlCatalogueRepository


class CatalogueService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def categories(self, region: RegionCode) -> list[Category]:
        async with self._db.transaction() as s:
            return await SqlCatalogueRepository(s).categories(region)

    async def products(self, region: RegionCode, category_id: str) -> list[Product]:
        async with self._db.transaction() as s:
            return await SqlCatalogueRepository(s).products(region, category_id)

    async def product(self, region: RegionCode, sku: str) -> Product:
        async with self._db.transaction() as s:
            found = await SqlCatalogueRepository(s).products_by_sku(region, [sku])
        if sku not in found:
            raise UnknownProductError(sku)
        return found[sku]

    async def available(self, region: RegionCode, sku: str) -> int:
        async with self._db.transaction() as s:
            levels = await SqlCatalogueRepository(s).stock(region, [sku])
        level = levels.get(sku)
        return 0 if level is None else level.available
