"""The WMS's side of `engines.catalogue.BinStock`: the bins follow the catalogue's on_hand.

Source of truth: the catalogue's `on_hand` (what reservations count on). In a warehouse the WMS
runs (one with a layout) the bins hold exactly that much, the dock included — a picked carton
moves from its bin to the dock and stays stock until it leaves on its truck:

* put-away: into a bin, and on_hand up, in one transaction (`WarehouseService.put_away`);
* pick confirmation: bin to dock, on_hand unchanged (`WarehouseService.confirm_pick`);
* delivery (in full or in part): what arrived leaves the dock (or, for an order delivered without
  a pick list, the bins), as on_hand falls;
* cancellation, or the undelivered rest of a delivery: what was picked for the order goes back
  from the dock to a bin (on_hand unchanged), and an open pick list is cancelled;
* a return: put away into a bin, as on_hand rises.

A warehouse without a layout has no bins and is left alone.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from engines.wms.model import Layout, PickListStatus, choose_putaways
from engines.wms.repository import SqlWarehouseRepository, dock_id

log = structlog.get_logger(__name__)


class SqlBinStock:
    async def shipped(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        repo = SqlWarehouseRepository(s)
        if await repo.layout(warehouse_id) is None:
            return
        dock = dock_id(warehouse_id)
        rest = quantity - await _take_upto(repo, dock, sku, quantity)
        for held in await repo.stock(warehouse_id, sku):
            if rest == 0:
                break
            rest -= await _take_upto(repo, held.location_id, sku, rest)
        if rest:
            # the bins held less than the catalogue before this delivery: a drift from before
            # (stock loaded outside the WMS); counted, so an operator can recount
            log.warning("wms.bins_short", warehouse=warehouse_id, sku=sku, short=rest, order=order)

    async def released(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        repo = SqlWarehouseRepository(s)
        layout = await repo.layout(warehouse_id)
        if layout is None or order is None:
            return
        pick = await repo.pick_list_for(order)
        if pick is None:
            return
        picked = sum(line.picked for line in pick.lines if line.sku == sku)
        back = await _take_upto(repo, dock_id(warehouse_id), sku, min(quantity, picked))
        if back:
            await stow(repo, layout, sku, back)
        if pick.status is PickListStatus.OPEN:
            await repo.set_status(pick.id, PickListStatus.CANCELLED)

    async def restocked(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        repo = SqlWarehouseRepository(s)
        layout = await repo.layout(warehouse_id)
        if layout is not None:
            await stow(repo, layout, sku, quantity)


async def stow(repo: SqlWarehouseRepository, layout: Layout, sku: str, quantity: int) -> None:
    """Into the bins the put-away rule picks, as many as it takes (see `choose_putaways`)."""
    warehouse_id = layout.warehouse_id
    for target, part in choose_putaways(
        layout, await repo.locations(warehouse_id), await repo.stock(warehouse_id), sku, quantity
    ):
        await repo.put(target.id, sku, part)


async def _take_upto(repo: SqlWarehouseRepository, location_id: str, sku: str, most: int) -> int:
    taken = min(most, await repo.quantity(location_id, sku))
    if taken > 0:
        await repo.take(location_id, sku, taken)
    return max(taken, 0)
