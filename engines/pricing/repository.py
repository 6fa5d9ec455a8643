"""SQLAlchemy adapter for price lists and promotions."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.region import RegionCode
from engines.pricing.model import PriceEntry, PriceTier, Promotion
from engines.pricing.tables import prices, promotions


class SqlPriceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def prices(self, region: RegionCode, skus: Sequence[str]) -> dict[str, PriceEntry]:
        rows = await self._s.execute(
            select(prices).where(prices.c.region == region.value, prices.c.sku.in_(skus))
        )
        return {
            r.sku: PriceEntry(
                sku=r.sku,
                currency=r.currency,
                unit_price=r.unit_price,
                tiers=tuple(
                    PriceTier(int(t["min_quantity"]), Decimal(str(t["unit_price"])))
                    for t in r.tiers
                ),
            )
            for r in rows
        }

    async def all_prices(self, region: RegionCode) -> dict[str, PriceEntry]:
        rows = await self._s.execute(select(prices.c.sku).where(prices.c.region == region.value))
        return await self.prices(region, [r.sku for r in rows])

    async def promotions(self, region: RegionCode) -> list[Promotion]:
        """Every promotion of the region; the quote applies only those live at its time."""
        rows = await self._s.execute(select(promotions).where(promotions.c.region == region.value))
        return [
            Promotion(
                id=r.id,
                names=dict(r.names),
                percent_off=r.percent_off,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                sku=r.sku,
                category_id=r.category_id,
                min_quantity=r.min_quantity,
            )
            for r in rows
        ]
