"""SQLAlchemy adapter for the warehouse: explicit row <-> model mapping."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engines.catalogue.tables import warehouses
from engines.orders.tables import orders
from engines.wms.model import (
    InsufficientStockError,
    Layout,
    Location,
    OverPickError,
    PickList,
    PickListLine,
    PickListStatus,
    Site,
    StockAt,
    Warehouse,
    Zone,
)
from engines.wms.tables import (
    wms_layouts,
    wms_locations,
    wms_pick_lines,
    wms_pick_lists,
    wms_stock,
    wms_zones,
)


def dock_id(warehouse_id: str) -> str:
    return f"{warehouse_id}:dock"


class SqlWarehouseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def layout(self, warehouse_id: str) -> Layout | None:
        row = (
            await self._s.execute(
                select(wms_layouts).where(wms_layouts.c.warehouse_id == warehouse_id)
            )
        ).first()
        return None if row is None else Layout(row.warehouse_id, row.depth, row.dock_x)

    async def add_layout(self, layout: Layout) -> None:
        await self._s.execute(
            wms_layouts.insert().values(
                warehouse_id=layout.warehouse_id, depth=layout.depth, dock_x=layout.dock_x
            )
        )

    async def zones(self, warehouse_id: str) -> list[Zone]:
        rows = await self._s.execute(
            select(wms_zones)
            .where(wms_zones.c.warehouse_id == warehouse_id)
            .order_by(wms_zones.c.id)
        )
        return [Zone(r.id, r.warehouse_id, r.name) for r in rows]

    async def add_zone(self, zone: Zone) -> None:
        await self._s.execute(
            wms_zones.insert().values(id=zone.id, warehouse_id=zone.warehouse_id, name=zone.name)
        )

    async def locations(self, warehouse_id: str) -> list[Location]:
        """The warehouse's bins (the dock is not one: nothing is put away or picked there)."""
        rows = await self._s.execute(
            select(wms_locations)
            .where(
                wms_locations.c.warehouse_id == warehouse_id,
                wms_locations.c.id != dock_id(warehouse_id),
            )
            .order_by(wms_locations.c.id)
        )
        return [_location(r) for r in rows]

    async def add_locations(self, locations: Sequence[Location]) -> None:
        if locations:
            await self._s.execute(
                wms_locations.insert(),
                [
                    {
                        "id": loc.id,
                        "warehouse_id": loc.warehouse_id,
                        "zone_id": loc.zone_id,
                        "aisle": loc.aisle,
                        "bay": loc.bay,
                        "level": loc.level,
                        "bin": loc.bin,
                        "x": loc.x,
                        "y": loc.y,
                        "capacity": loc.capacity,
                    }
                    for loc in locations
                ],
            )

    async def stock(
        self, warehouse_id: str, sku: str | None = None, *, dock: bool = False
    ) -> list[StockAt]:
        """What the bins hold (with `dock`, the dock's picked goods too)."""
        query = (
            select(wms_stock)
            .join(wms_locations, wms_locations.c.id == wms_stock.c.location_id)
            .where(wms_locations.c.warehouse_id == warehouse_id, wms_stock.c.quantity > 0)
        )
        if not dock:
            query = query.where(wms_locations.c.id != dock_id(warehouse_id))
        if sku is not None:
            query = query.where(wms_stock.c.sku == sku)
        rows = await self._s.execute(query.order_by(wms_stock.c.location_id, wms_stock.c.sku))
        return [StockAt(r.location_id, r.sku, r.quantity) for r in rows]

    async def put(self, location_id: str, sku: str, quantity: int) -> StockAt:
        current = await self._s.scalar(
            select(wms_stock.c.quantity).where(
                wms_stock.c.location_id == location_id, wms_stock.c.sku == sku
            )
        )
        if current is None:
            await self._s.execute(
                wms_stock.insert().values(location_id=location_id, sku=sku, quantity=quantity)
            )
            return StockAt(location_id, sku, quantity)
        await self._s.execute(
            update(wms_stock)
            .where(wms_stock.c.location_id == location_id, wms_stock.c.sku == sku)
            .values(quantity=wms_stock.c.quantity + quantity)
        )
        return StockAt(location_id, sku, current + quantity)

    async def quantity(self, location_id: str, sku: str) -> int:
        found = await self._s.scalar(
            select(wms_stock.c.quantity).where(
                wms_stock.c.location_id == location_id, wms_stock.c.sku == sku
            )
        )
        return int(found or 0)

    async def ensure_dock(self, layout: Layout) -> str:
        """The warehouse's dock as a location (made once): where picked goods wait for their
        truck, so they stay counted in the warehouse's stock until they leave."""
        location = dock_id(layout.warehouse_id)
        if await self._s.scalar(select(wms_locations.c.id).where(wms_locations.c.id == location)):
            return location
        if not await self._s.scalar(select(wms_zones.c.id).where(wms_zones.c.id == location)):
            await self.add_zone(Zone(location, layout.warehouse_id, "Dispatch dock"))
        await self.add_locations(
            [Location(location, layout.warehouse_id, location, 0, 0, 0, 0, layout.dock_x, 0.0, 0)]
        )
        return location

    async def take(self, location_id: str, sku: str, quantity: int) -> None:
        """Conditional: concurrent pickers can never take a bin below zero."""
        result = await self._s.execute(
            update(wms_stock)
            .where(
                wms_stock.c.location_id == location_id,
                wms_stock.c.sku == sku,
                wms_stock.c.quantity >= quantity,
            )
            .values(quantity=wms_stock.c.quantity - quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            have = await self._s.scalar(
                select(wms_stock.c.quantity).where(
                    wms_stock.c.location_id == location_id, wms_stock.c.sku == sku
                )
            )
            raise InsufficientStockError(sku, quantity, int(have or 0), location_id)

    async def allocated(self, warehouse_id: str) -> dict[tuple[str, str], int]:
        """What open pick lists will still take from each bin: not free for a new pick list."""
        rows = await self._s.execute(
            select(
                wms_pick_lines.c.location_id,
                wms_pick_lines.c.sku,
                func.sum(wms_pick_lines.c.quantity - wms_pick_lines.c.picked),
            )
            .join(wms_pick_lists, wms_pick_lists.c.id == wms_pick_lines.c.pick_list_id)
            .where(
                wms_pick_lists.c.warehouse_id == warehouse_id,
                wms_pick_lists.c.status == PickListStatus.OPEN.value,
            )
            .group_by(wms_pick_lines.c.location_id, wms_pick_lines.c.sku)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    async def promised_from(self, location_id: str, sku: str) -> list[tuple[str, int]]:
        """The orders whose open pick lists will still take the SKU from this bin, and how
        many each, by order reference."""
        rows = await self._s.execute(
            select(
                wms_pick_lists.c.order_reference,
                func.sum(wms_pick_lines.c.quantity - wms_pick_lines.c.picked),
            )
            .join(wms_pick_lists, wms_pick_lists.c.id == wms_pick_lines.c.pick_list_id)
            .where(
                wms_pick_lines.c.location_id == location_id,
                wms_pick_lines.c.sku == sku,
                wms_pick_lists.c.status == PickListStatus.OPEN.value,
            )
            .group_by(wms_pick_lists.c.order_reference)
            .order_by(wms_pick_lists.c.order_reference)
        )
        return [(r[0], int(r[1])) for r in rows if r[1]]

    async def picked_for(
        self, warehouse_id: str, sku: str, statuses: Sequence[str]
    ) -> list[tuple[str, int]]:
        """The orders in one of `statuses` whose pick lists (not cancelled) took the SKU to the
        dock, and how many each, by order reference. Read in the orders' table: a warehouse's
        history of pick lists is long, its orders still in it are few."""
        rows = await self._s.execute(
            select(wms_pick_lists.c.order_reference, func.sum(wms_pick_lines.c.picked))
            .join(wms_pick_lists, wms_pick_lists.c.id == wms_pick_lines.c.pick_list_id)
            .join(orders, orders.c.reference == wms_pick_lists.c.order_reference)
            .where(
                wms_pick_lists.c.warehouse_id == warehouse_id,
                wms_pick_lines.c.sku == sku,
                wms_pick_lists.c.status != PickListStatus.CANCELLED.value,
                orders.c.status.in_(list(statuses)),
            )
            .group_by(wms_pick_lists.c.order_reference)
            .order_by(wms_pick_lists.c.order_reference)
        )
        return [(r[0], int(r[1])) for r in rows if r[1]]

    async def add_pick_list(self, pick: PickList, pick_id: uuid.UUID) -> None:
        await self._s.execute(
            wms_pick_lists.insert().values(
                id=pick_id,
                warehouse_id=pick.warehouse_id,
                order_reference=pick.order_reference,
                wave=pick.wave,
                status=pick.status.value,
                created_at=pick.created_at,
            )
        )
        await self._s.execute(
            wms_pick_lines.insert(),
            [
                {
                    "pick_list_id": pick_id,
                    "position": line.position,
                    "location_id": line.location_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "picked": line.picked,
                }
                for line in pick.lines
            ],
        )

    async def pick_list(self, pick_id: str) -> PickList | None:
        try:
            key = uuid.UUID(pick_id)
        except ValueError:
            return None
        row = (
            await self._s.execute(select(wms_pick_lists).where(wms_pick_lists.c.id == key))
        ).first()
        return None if row is None else await self._pick_list(row)

    async def pick_listed(self, order_references: Sequence[str]) -> set[str]:
        """Which of these orders have a pick list (of any status)."""
        if not order_references:
            return set()
        rows = await self._s.execute(
            select(wms_pick_lists.c.order_reference).where(
                wms_pick_lists.c.order_reference.in_(list(order_references))
            )
        )
        return {r.order_reference for r in rows}

    async def pick_list_for(self, order_reference: str) -> PickList | None:
        row = (
            await self._s.execute(
                select(wms_pick_lists).where(wms_pick_lists.c.order_reference == order_reference)
            )
        ).first()
        return None if row is None else await self._pick_list(row)

    async def site(self, region: str) -> Site | None:
        """The region's warehouse (the first by id, should it have several)."""
        row = (
            await self._s.execute(
                select(warehouses.c.id, warehouses.c.lat, warehouses.c.lon)
                .where(warehouses.c.region == region)
                .order_by(warehouses.c.id)
                .limit(1)
            )
        ).first()
        return None if row is None else Site(row.id, row.lat, row.lon)

    async def warehouses(self) -> list[Warehouse]:
        rows = await self._s.execute(select(warehouses).order_by(warehouses.c.id))
        return [Warehouse(r.id, r.region, r.name, r.lat, r.lon) for r in rows]

    async def locate(self, warehouse_id: str, lat: float, lon: float) -> bool:
        """Set where the warehouse stands; False when there is no such warehouse."""
        done = await self._s.execute(
            update(warehouses).where(warehouses.c.id == warehouse_id).values(lat=lat, lon=lon)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def open_pick_lists(self, warehouse_id: str) -> list[PickList]:
        """The warehouse's pick lists still to be picked, oldest first."""
        rows = await self._s.execute(
            select(wms_pick_lists)
            .where(
                wms_pick_lists.c.warehouse_id == warehouse_id,
                wms_pick_lists.c.status == PickListStatus.OPEN.value,
            )
            .order_by(wms_pick_lists.c.created_at, wms_pick_lists.c.order_reference)
        )
        return [await self._pick_list(row) for row in rows.all()]

    async def _pick_list(self, row: Any) -> PickList:
        lines = await self._s.execute(
            select(wms_pick_lines)
            .where(wms_pick_lines.c.pick_list_id == row.id)
            .order_by(wms_pick_lines.c.position)
        )
        return PickList(
            id=str(row.id),
            warehouse_id=row.warehouse_id,
            order_reference=row.order_reference,
            wave=row.wave,
            status=PickListStatus(row.status),
            lines=tuple(
                PickListLine(r.position, r.location_id, r.sku, r.quantity, r.picked) for r in lines
            ),
            created_at=row.created_at,
        )

    async def record_pick(self, pick_id: str, position: int, quantity: int) -> None:
        result = await self._s.execute(
            update(wms_pick_lines)
            .where(
                wms_pick_lines.c.pick_list_id == uuid.UUID(pick_id),
                wms_pick_lines.c.position == position,
                wms_pick_lines.c.picked + quantity <= wms_pick_lines.c.quantity,
            )
            .values(picked=wms_pick_lines.c.picked + quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise OverPickError(position, quantity, 0)

    async def set_status(self, pick_id: str, status: PickListStatus) -> None:
        await self._s.execute(
            update(wms_pick_lists)
            .where(wms_pick_lists.c.id == uuid.UUID(pick_id))
            .values(status=status.value)
        )


def _location(r: Any) -> Location:
    return Location(
        id=r.id,
        warehouse_id=r.warehouse_id,
        zone_id=r.zone_id,
        aisle=r.aisle,
        bay=r.bay,
        level=r.level,
        bin=r.bin,
        x=r.x,
        y=r.y,
        capacity=r.capacity,
    )
