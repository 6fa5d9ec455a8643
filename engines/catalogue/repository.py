"""SQLAlchemy adapter for the catalogue: explicit row <-> model mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import ColumnElement, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database, Prepared
from core.region import RegionCode
from engines.catalogue.model import (
    BelowReservedError,
    Category,
    OutOfStockError,
    Product,
    StockLevel,
)
from engines.catalogue.ports import BinStock
from engines.catalogue.tables import (
    categories,
    product_aliases,
    products,
    stock_levels,
    warehouses,
)


class SqlCatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def categories(self, region: RegionCode) -> list[Category]:
        rows = await self._s.execute(
            select(categories)
            .where(categories.c.region == region.value)
            .order_by(categories.c.position, categories.c.id)
        )
        return [Category(r.id, RegionCode(r.region), dict(r.names), r.position) for r in rows]

    async def products(self, region: RegionCode, category_id: str | None = None) -> list[Product]:
        query = select(products).where(products.c.region == region.value)
        if category_id is not None:
            query = query.where(products.c.category_id == category_id)
        rows = await self._s.execute(query.order_by(products.c.name, products.c.sku))
        return [_product(r) for r in rows]

    async def aliases(self, region: RegionCode) -> dict[str, dict[str, tuple[str, ...]]]:
        """sku -> locale -> the other words retailers use for the product."""
        rows = await self._s.execute(
            select(product_aliases)
            .where(product_aliases.c.region == region.value)
            .order_by(product_aliases.c.sku, product_aliases.c.locale, product_aliases.c.alias)
        )
        found: dict[str, dict[str, tuple[str, ...]]] = {}
        for r in rows:
            by_locale = found.setdefault(r.sku, {})
            by_locale[r.locale] = (*by_locale.get(r.locale, ()), r.alias)
        return found

    async def products_by_sku(self, region: RegionCode, skus: Sequence[str]) -> dict[str, Product]:
        rows = await self._s.execute(
            select(products).where(products.c.region == region.value, products.c.sku.in_(skus))
        )
        return {r.sku: _product(r) for r in rows}

    async def stock(self, region: RegionCode, skus: Sequence[str]) -> dict[str, StockLevel]:
        rows = await self._s.execute(
            select(stock_levels)
            .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)
            .where(warehouses.c.region == region.value, stock_levels.c.sku.in_(skus))
            .order_by(stock_levels.c.warehouse_id)
        )
        levels: dict[str, StockLevel] = {}
        for r in rows:
            # One warehouse per region today; the first listed serves the region.
            levels.setdefault(r.sku, StockLevel(r.warehouse_id, r.sku, r.on_hand, r.reserved))
        return levels

    async def reserve(self, level: StockLevel, quantity: int) -> None:
        """Conditional update: concurrent orders can never reserve more than is on hand."""
        result = await self._s.execute(
            update(stock_levels)
            .where(
                stock_levels.c.warehouse_id == level.warehouse_id,
                stock_levels.c.sku == level.sku,
                stock_levels.c.on_hand - stock_levels.c.reserved >= quantity,
            )
            .values(reserved=stock_levels.c.reserved + quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise OutOfStockError(level.sku, quantity, level.available)

    async def release(self, level: StockLevel, quantity: int) -> None:
        """Give a reservation back (a cancelled order); never below zero reserved."""
        await self._s.execute(
            update(stock_levels)
            .where(
                stock_levels.c.warehouse_id == level.warehouse_id,
                stock_levels.c.sku == level.sku,
            )
            .values(
                reserved=case(
                    (stock_levels.c.reserved >= quantity, stock_levels.c.reserved - quantity),
                    else_=0,
                )
            )
        )


def _product(r: object) -> Product:
    return Product(
        sku=r.sku,  # type: ignore[attr-defined]
        region=RegionCode(r.region),  # type: ignore[attr-defined]
        category_id=r.category_id,  # type: ignore[attr-defined]
        name=r.name,  # type: ignore[attr-defined]
        unit=r.unit,  # type: ignore[attr-defined]
    )


# One SKU's level in the region's first warehouse: the quantity screen's read on every turn.
STOCK_OF: Final = Prepared(
    lambda _dialect: (
        select(
            stock_levels.c.on_hand - stock_levels.c.reserved,
        )
        .join(warehouses, warehouses.c.id == stock_levels.c.warehouse_id)
        .where(warehouses.c.region == bindparam("region"), stock_levels.c.sku == bindparam("sku"))
        .order_by(stock_levels.c.warehouse_id)
        .limit(1)
    )
)


async def stock_available(db: Database, region: RegionCode, sku: str) -> int:
    """What can still be reserved of `sku` in `region` (0 when it is not stocked there)."""
    rows = await db.fetch(STOCK_OF, region=region.value, sku=sku)
    return max(0, int(rows[0][0])) if rows else 0


class SqlStockMovements:
    """What orders do to stock after reserving it: release, ship, take back; and goods received.

    Each is one conditional UPDATE, like `reserve`, so a movement never drives reserved or on
    hand below zero (the table's check constraint would refuse it anyway). With `bins` (the
    WMS, see `ports.BinStock`) every movement of goods is mirrored in the warehouse's bins in
    the same session.
    """

    def __init__(self, session: AsyncSession, bins: BinStock | None = None) -> None:
        self._s = session
        self._bins = bins

    async def release(
        self, warehouse_id: str, sku: str, quantity: int, order: str | None = None
    ) -> None:
        await self._move(
            warehouse_id,
            sku,
            stock_levels.c.reserved >= quantity,
            reserved=stock_levels.c.reserved - quantity,
        )
        if self._bins is not None:
            await self._bins.released(self._s, warehouse_id, sku, quantity, order)

    async def ship(
        self, warehouse_id: str, sku: str, quantity: int, order: str | None = None
    ) -> None:
        await self._move(
            warehouse_id,
            sku,
            stock_levels.c.reserved >= quantity,
            reserved=stock_levels.c.reserved - quantity,
            on_hand=stock_levels.c.on_hand - quantity,
        )
        if self._bins is not None:
            await self._bins.shipped(self._s, warehouse_id, sku, quantity, order)

    async def restock(
        self, warehouse_id: str, sku: str, quantity: int, order: str | None = None
    ) -> None:
        await self._move(
            warehouse_id,
            sku,
            stock_levels.c.on_hand >= 0,
            on_hand=stock_levels.c.on_hand + quantity,
        )
        if self._bins is not None:
            await self._bins.restocked(self._s, warehouse_id, sku, quantity, order)

    async def receive(self, warehouse_id: str, sku: str, quantity: int) -> None:
        """Goods received into the warehouse (the WMS's put-away): on hand rises; a SKU the
        warehouse has never held gets its row."""
        result = await self._s.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == warehouse_id, stock_levels.c.sku == sku)
            .values(on_hand=stock_levels.c.on_hand + quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await self._s.execute(
                stock_levels.insert().values(
                    warehouse_id=warehouse_id, sku=sku, on_hand=quantity, reserved=0
                )
            )

    async def carries(self, warehouse_id: str, sku: str) -> bool:
        """Whether `sku` is one the warehouse may hold: its region's catalogue sells it, or it
        has a stock level there already (a product since withdrawn is still counted out)."""
        sold = (
            select(products.c.sku)
            .join(warehouses, warehouses.c.region == products.c.region)
            .where(warehouses.c.id == warehouse_id, products.c.sku == sku)
        )
        stocked = select(stock_levels.c.sku).where(
            stock_levels.c.warehouse_id == warehouse_id, stock_levels.c.sku == sku
        )
        return (await self._s.scalar(select(sold.exists() | stocked.exists()))) is True

    async def levels(self, warehouse_id: str) -> dict[str, tuple[int, int]]:
        """Each SKU's (on hand, reserved) in the warehouse."""
        rows = await self._s.execute(
            select(stock_levels.c.sku, stock_levels.c.on_hand, stock_levels.c.reserved).where(
                stock_levels.c.warehouse_id == warehouse_id
            )
        )
        return {r.sku: (int(r.on_hand), int(r.reserved)) for r in rows}

    async def recount(self, warehouse_id: str, sku: str, on_hand: int) -> int:
        """Set on hand to what a stock count found; returns what orders have reserved of it.

        Refused (BelowReservedError) when that is less than the reserved: those orders were
        promised goods the count did not find, and someone has to decide which go short.
        """
        result = await self._s.execute(
            update(stock_levels)
            .where(
                stock_levels.c.warehouse_id == warehouse_id,
                stock_levels.c.sku == sku,
                stock_levels.c.reserved <= on_hand,
            )
            .values(on_hand=on_hand)
        )
        reserved = await self._s.scalar(
            select(stock_levels.c.reserved).where(
                stock_levels.c.warehouse_id == warehouse_id, stock_levels.c.sku == sku
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return int(reserved or 0)
        if reserved is not None:
            raise BelowReservedError(sku, on_hand, int(reserved))
        await self._s.execute(
            stock_levels.insert().values(
                warehouse_id=warehouse_id, sku=sku, on_hand=on_hand, reserved=0
            )
        )
        return 0

    async def _move(
        self, warehouse_id: str, sku: str, guard: ColumnElement[bool], **values: object
    ) -> None:
        result = await self._s.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == warehouse_id, stock_levels.c.sku == sku, guard)
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StockMovementError(warehouse_id, sku)


class StockMovementError(RuntimeError):
    """A stock movement found less reserved stock than it was told to move: a bookkeeping bug."""

    def __init__(self, warehouse_id: str, sku: str) -> None:
        super().__init__(f"{warehouse_id}:{sku}")
