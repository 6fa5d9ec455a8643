"""A longer noodle shelf than one screen lists, for the paging tests of each channel."""

from __future__ import annotations

from decimal import Decimal

from core.app.bootstrap import Services
from engines.catalogue.tables import products, stock_levels
from engines.pricing.tables import prices

EXTRA = 14


async def stock_the_noodle_shelf(services: Services) -> None:
    """More noodles than one 182-character screen can list."""
    rows = [(f"NDL-XTRA-{n:02}", f"Noodle Extra {n:02} 20x70g") for n in range(1, EXTRA + 1)]
    async with services.db.transaction() as session:
        await session.execute(
            products.insert(),
            [
                {"region": "lagos", "sku": sku, "category_id": "noodles", "name": name}
                | {"unit": "carton"}
                for sku, name in rows
            ],
        )
        await session.execute(
            prices.insert(),
            [
                {"region": "lagos", "sku": sku, "currency": "NGN"}
                | {"unit_price": Decimal(4_000 + 50 * n), "tiers": []}
                for n, (sku, _name) in enumerate(rows)
            ],
        )
        await session.execute(
            stock_levels.insert(),
            [
                {"warehouse_id": "WH-LAGOS", "sku": sku, "on_hand": 60, "reserved": 0}
                for sku, _ in rows
            ],
        )
