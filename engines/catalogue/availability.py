"""Stock for many products at once: lists over GraphQL read a page's stock in one query."""

from __future__ import annotations

from collections.abc import Sequence

from core.db import Database
from core.region import RegionCode
from engines.catalogue.repository import SqlCatalogueRepository


async def available_many(db: Database, region: RegionCode, skus: Sequence[str]) -> dict[str, int]:
    """Units available per sku (0 for a sku with no stock row)."""
    async with db.transaction() as s:
        levels = await SqlCatalogueRepository(s).stock(region, list(skus))
    return {sku: (levels[sku].available if sku in levels else 0) for sku in skus}
