"""Warehouse use cases: lay out bins, put away, pick lists, pick paths, waves, pick confirmation.

Order status moves through the orders engine's own service (`advance`), never its tables, so the
order lifecycle stays the orders context's business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from engines.catalogue import SqlStockMovements
from engines.orders import InvalidTransitionError, Order, OrderService, OrderStatus
from engines.wms.model import (
    BinHoldsOtherSkuError,
    Counted,
    CountError,
    HoldReason,
    InsufficientStockError,
    Layout,
    Location,
    OverPickError,
    PickLine,
    PickList,
    PickListLine,
    PickListStatus,
    Site,
    StockAt,
    StockDrift,
    UnknownLocationError,
    UnknownPickError,
    Warehouse,
    WarehouseError,
    Wave,
    WaveOrder,
    WavePlan,
    WavePolicy,
    Zone,
    allocate_picks,
    choose_putaway,
    plan_waves,
)
from engines.wms.paths import PathPolicy, PickPath, pick_path
from engines.wms.repository import SqlWarehouseRepository, dock_id

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Departure:
    """Which truck route an order leaves on, and when (from the route plan)."""

    route: str
    at: datetime


class UnknownWarehouseError(WarehouseError):
    pass


class MixedRegionsError(WarehouseError):
    """One wave plan is one warehouse's pickers: orders of another region are not theirs."""

    def __init__(self, first: tuple[str, str], other: tuple[str, str]) -> None:
        super().__init__(
            f"order {other[0]} is in {other[1]} but order {first[0]} is in {first[1]}: "
            "plan each region's waves on their own"
        )
        self.regions = (first[1], other[1])


# Orders a wave may pick (the workflow moves a released order to PICKING before its wave).
TO_PICK = frozenset({OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.PICKING})
# Orders whose picked goods the dock holds: the warehouse's stock until delivered (an order
# delivered, cancelled or returned took them off it, or back to a shelf).
ON_DOCK = frozenset({OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.DISPATCHED})


class WarehouseService:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator, orders: OrderService) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._orders = orders

    async def define(
        self, layout: Layout, zones: Sequence[Zone], locations: Sequence[Location]
    ) -> None:
        """Create a warehouse's layout, zones and bins (once; existing ones are kept)."""
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            if await repo.layout(layout.warehouse_id) is None:
                await repo.add_layout(layout)
            known_zones = {z.id for z in await repo.zones(layout.warehouse_id)}
            for zone in zones:
                if zone.id not in known_zones:
                    await repo.add_zone(zone)
            known = {loc.id for loc in await repo.locations(layout.warehouse_id)}
            await repo.add_locations([loc for loc in locations if loc.id not in known])
            stored = await repo.layout(layout.warehouse_id)
            assert stored is not None
            await repo.ensure_dock(stored)  # made here, so pickers never race to make it

    async def layout(self, warehouse_id: str) -> Layout:
        async with self._db.transaction() as s:
            found = await SqlWarehouseRepository(s).layout(warehouse_id)
        if found is None:
            raise UnknownWarehouseError(warehouse_id)
        return found

    async def locations(self, warehouse_id: str) -> list[Location]:
        async with self._db.transaction() as s:
            return await SqlWarehouseRepository(s).locations(warehouse_id)

    async def stock(
        self, warehouse_id: str, sku: str | None = None, *, dock: bool = False
    ) -> list[StockAt]:
        """What the bins hold; with `dock`, the picked goods waiting at the dock too."""
        async with self._db.transaction() as s:
            return await SqlWarehouseRepository(s).stock(warehouse_id, sku, dock=dock)

    async def put_away(
        self, warehouse_id: str, sku: str, quantity: int, zone_id: str | None = None
    ) -> StockAt:
        """Receive goods into the bin the put-away rule picks (see `choose_putaway`)."""

        async def work(s: AsyncSession) -> StockAt:
            repo = SqlWarehouseRepository(s)
            layout = await repo.layout(warehouse_id)
            if layout is None:
                raise UnknownWarehouseError(warehouse_id)
            target = choose_putaway(
                layout,
                await repo.locations(warehouse_id),
                await repo.stock(warehouse_id),
                sku,
                quantity,
                zone_id=zone_id,
            )
            # the catalogue's on_hand rises with the bin, in this transaction (see wms.stock)
            await SqlStockMovements(s).receive(warehouse_id, sku, quantity)
            return await repo.put(target.id, sku, quantity)

        return await self._db.retrying(work)

    async def drift(self, warehouse_id: str) -> list[StockDrift]:
        """The SKUs whose bins and dock do not hold what the catalogue has on hand (stock loaded
        outside the WMS, or goods lost or found): what an operator should count."""
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            if await repo.layout(warehouse_id) is None:
                raise UnknownWarehouseError(warehouse_id)
            in_bins: Counter[str] = Counter()
            for held in await repo.stock(warehouse_id, dock=True):
                in_bins[held.sku] += held.quantity
            levels = await SqlStockMovements(s).levels(warehouse_id)
        found = (
            StockDrift(sku, levels.get(sku, (0, 0))[0], in_bins[sku])
            for sku in sorted(set(in_bins) | set(levels))
        )
        return [d for d in found if d.difference]

    async def count(self, warehouse_id: str, location_id: str, sku: str, counted: int) -> Counted:
        """A cycle count: the bin holds `counted` of the SKU, and the SKU's on hand becomes what
        all its bins and the dock hold. Refused, changing nothing, when that would leave less
        on hand than orders reserved (BelowReservedError), when the bin holds another SKU, or
        when the warehouse's catalogue has no such SKU, the bin has no room for the count or
        the count is less than open pick lists still take from the bin, or, on the dock, less
        than picked orders wait there with (CountError, naming their orders: their pickers
        could never pick them, their trucks would be loaded from the shelves again)."""
        if counted < 0:
            raise CountError(f"a count is 0 or more, not {counted}")

        async def work(s: AsyncSession) -> Counted:
            repo = SqlWarehouseRepository(s)
            layout = await repo.layout(warehouse_id)
            if layout is None:
                raise UnknownWarehouseError(warehouse_id)
            dock = dock_id(warehouse_id)
            if location_id == dock:
                # a warehouse laid out before docks were made with the layout (the demo's) has
                # none until its first pick: goods found there are counted all the same
                await repo.ensure_dock(layout)
            bins = {loc.id: loc for loc in await repo.locations(warehouse_id)}
            if location_id != dock and location_id not in bins:
                raise UnknownLocationError(warehouse_id, location_id)
            if location_id != dock and counted > bins[location_id].capacity:
                # a slipped digit, not goods: on hand would promise what nobody has
                raise CountError(
                    f"{location_id} holds at most {bins[location_id].capacity}: "
                    f"{counted} x {sku} cannot be in it; count again"
                )
            movements = SqlStockMovements(s)
            if not await movements.carries(warehouse_id, sku):
                # a mistyped SKU, never a new product: the one meant would go uncounted
                raise CountError(f"{warehouse_id}'s catalogue has no SKU {sku}: check the label")
            held = {a.sku for a in await repo.stock(warehouse_id) if a.location_id == location_id}
            if location_id != dock and counted and held - {sku}:
                raise BinHoldsOtherSkuError(location_id, min(held - {sku}))
            # what picked orders not yet delivered hold of it there
            waiting = (
                await repo.picked_for(warehouse_id, sku, [st.value for st in ON_DOCK])
                if location_id == dock
                else []
            )
            if counted < sum(n for _, n in waiting):
                # their cartons, counted away, would be shipped from the shelves again
                orders = ", ".join(f"{ref} ({n})" for ref, n in waiting)
                raise CountError(
                    f"dock: {counted} x {sku} is less than the {sum(n for _, n in waiting)}"
                    f" picked for orders {orders} and not delivered yet (on the dock, or on"
                    " their truck): count again, or cancel those orders first"
                )
            promised = [] if location_id == dock else await repo.promised_from(location_id, sku)
            if counted < sum(n for _, n in promised):
                # the pickers sent there would find less than their lists say, for ever
                orders = ", ".join(f"{ref} ({n})" for ref, n in promised)
                raise CountError(
                    f"{location_id}: {counted} x {sku} is less than the"
                    f" {sum(n for _, n in promised)} open pick lists still take from it for"
                    f" orders {orders}: count again, or cancel those orders first"
                )
            recorded = await repo.quantity(location_id, sku)
            if counted > recorded:
                await repo.put(location_id, sku, counted - recorded)
            elif counted < recorded:
                await repo.take(location_id, sku, recorded - counted)
            on_hand = sum(a.quantity for a in await repo.stock(warehouse_id, sku, dock=True))
            reserved = await movements.recount(warehouse_id, sku, on_hand)
            return Counted(location_id, sku, recorded, counted, on_hand, reserved)

        done = await self._db.retrying(work)
        log.info(
            "wms.counted",
            warehouse=warehouse_id,
            location=location_id,
            sku=sku,
            recorded=done.recorded,
            counted=done.counted,
            on_hand=done.on_hand,
        )
        return done

    async def pick_list(
        self, warehouse_id: str, order_reference: str, wave: str | None = None
    ) -> PickList:
        """The order's pick list, made once: bins nearest the dock, not promised to another
        open pick list. The order moves to PICKING."""
        order = await self._orders.get(order_reference)
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            existing = await repo.pick_list_for(order.reference)
            if existing is not None:
                return existing
            layout = await repo.layout(warehouse_id)
            if layout is None:
                raise UnknownWarehouseError(warehouse_id)
            locations = {loc.id: loc for loc in await repo.locations(warehouse_id)}
            promised = await repo.allocated(warehouse_id)
            free = [
                StockAt(
                    st.location_id, st.sku, st.quantity - promised.get((st.location_id, st.sku), 0)
                )
                for st in await repo.stock(warehouse_id)
            ]
            lines: list[PickLine] = allocate_picks(
                layout, locations, free, [(line.sku, line.quantity) for line in order.lines]
            )
            pick_id = self._ids.uuid()
            pick = PickList(
                id=str(pick_id),
                warehouse_id=warehouse_id,
                order_reference=order.reference,
                wave=wave,
                status=PickListStatus.OPEN,
                lines=tuple(
                    PickListLine(i, line.location_id, line.sku, line.quantity)
                    for i, line in enumerate(lines, start=1)
                ),
                created_at=self._clock.now(),
            )
            await repo.add_pick_list(pick, pick_id)
            # In picking with its pick list: a failure after the commit left the order behind,
            # and as a wave never makes an order a second pick list, it was never packed.
            await self._move_order_in(s, order, OrderStatus.CONFIRMED, OrderStatus.PICKING)
        return pick

    async def pick_listed(self, order_references: Iterable[str]) -> set[str]:
        """The orders of these the warehouse already has a pick list for: waved once, never
        again (an order routed a second time keeps the goods picked for it)."""
        async with self._db.transaction() as s:
            return await SqlWarehouseRepository(s).pick_listed(
                [r.upper() for r in order_references]
            )

    async def get_pick_list(self, pick_id: str) -> PickList:
        async with self._db.transaction() as s:
            found = await SqlWarehouseRepository(s).pick_list(pick_id)
        if found is None:
            raise UnknownPickError(pick_id)
        return found

    async def find_pick_list(self, key: str) -> PickList:
        """A pick list by its id, or by its order's reference (what a picker's slip shows)."""
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            found = await repo.pick_list(key) or await repo.pick_list_for(key.strip().upper())
        if found is None:
            raise UnknownPickError(key)
        return found

    async def site(self, region: str) -> Site | None:
        """The region's warehouse and where it stands (None: the region has none)."""
        async with self._db.transaction() as s:
            return await SqlWarehouseRepository(s).site(region)

    async def warehouses(self) -> list[Warehouse]:
        """Every warehouse, by id."""
        async with self._db.transaction() as s:
            return await SqlWarehouseRepository(s).warehouses()

    async def locate(self, warehouse_id: str, lat: float, lon: float) -> Warehouse:
        """Set where the warehouse stands: the next day plan of its region starts its routes
        there. Raises UnknownWarehouseError for an id no warehouse has."""
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            if not await repo.locate(warehouse_id, lat, lon):
                raise UnknownWarehouseError(warehouse_id)
            return next(w for w in await repo.warehouses() if w.id == warehouse_id)

    async def open_pick_lists(self, warehouse_id: str) -> list[PickList]:
        """The warehouse's pick lists still to be picked, oldest first."""
        async with self._db.transaction() as s:
            repo = SqlWarehouseRepository(s)
            if await repo.layout(warehouse_id) is None:
                raise UnknownWarehouseError(warehouse_id)
            return await repo.open_pick_lists(warehouse_id)

    async def path(
        self, pick_id: str, policy: PathPolicy = PathPolicy.OPTIMAL
    ) -> tuple[PickPath, list[PickListLine]]:
        """The walk for a pick list's remaining lines, and the lines in that walking order."""
        pick = await self.get_pick_list(pick_id)
        layout = await self.layout(pick.warehouse_id)
        locations = {loc.id: loc for loc in await self.locations(pick.warehouse_id)}
        todo = [line for line in pick.lines if line.remaining > 0]
        points = [locations[line.location_id].point for line in todo]
        path = pick_path(layout, points, policy)
        rank = {p: i for i, p in enumerate(path.stops)}
        return path, sorted(
            todo, key=lambda line: (rank[locations[line.location_id].point], line.position)
        )

    async def batch_path(
        self, pick_ids: Sequence[str], policy: PathPolicy = PathPolicy.OPTIMAL
    ) -> tuple[PickPath, list[tuple[str, PickListLine]]]:
        """One walk for a picker's batch in a wave: every remaining line of the pick lists, in
        walking order, each with the pick list it belongs to (so it goes in the right tote)."""
        picks = [await self.get_pick_list(pick_id) for pick_id in pick_ids]
        warehouses = {p.warehouse_id for p in picks}
        if len(warehouses) != 1:
            raise WarehouseError("a batch is picked in one warehouse")
        [warehouse_id] = warehouses
        layout = await self.layout(warehouse_id)
        locations = {loc.id: loc for loc in await self.locations(warehouse_id)}
        todo = [(p.id, line) for p in picks for line in p.lines if line.remaining > 0]
        path = pick_path(layout, [locations[line.location_id].point for _, line in todo], policy)
        rank = {point: i for i, point in enumerate(path.stops)}
        return path, sorted(
            todo, key=lambda item: (rank[locations[item[1].location_id].point], item[0])
        )

    async def confirm_pick(self, pick_id: str, position: int, quantity: int) -> PickList:
        """A picker took `quantity` from a line's bin: the bin's stock falls (never below zero);
        when the last line is picked the pick list closes and the order is PACKED."""
        return await self.confirm_picks(pick_id, {position: quantity})

    async def confirm_picks(self, pick_id: str, taken: Mapping[int, int]) -> PickList:
        """A picker took each line's quantity (line position -> quantity) from its bin, all in
        one transaction: when one line cannot be (its bin holds less, say) none is, so a
        refused confirmation leaves every bin and the dock as they were."""
        if any(quantity <= 0 for quantity in taken.values()):
            raise ValueError(f"quantities must be positive: {dict(taken)}")

        async def work(s: AsyncSession) -> PickList:
            repo = SqlWarehouseRepository(s)
            pick = await repo.pick_list(pick_id)
            if pick is None:
                raise UnknownPickError(pick_id)
            if pick.status is PickListStatus.CANCELLED:
                raise WarehouseError(f"pick list {pick_id} was cancelled with its order")
            layout = await repo.layout(pick.warehouse_id)
            assert layout is not None
            for position, quantity in taken.items():
                line = next((ln for ln in pick.lines if ln.position == position), None)
                if line is None:
                    raise UnknownPickError(f"{pick_id} line {position}")
                if quantity > line.remaining:
                    raise OverPickError(position, quantity, line.remaining)
                # from the bin to the dock: still the warehouse's stock until it leaves on its
                # truck
                await repo.take(line.location_id, line.sku, quantity)
                await repo.put(await repo.ensure_dock(layout), line.sku, quantity)
                await repo.record_pick(pick_id, position, quantity)
            updated = await repo.pick_list(pick_id)
            assert updated is not None
            if updated.complete:
                await repo.set_status(pick_id, PickListStatus.PICKED)
                updated = await repo.pick_list(pick_id)
                assert updated is not None
                # Packed with the last pick: a failure after the commit left the order in
                # picking for good, the picker's retry refused as the line was picked.
                await self._pack_in(s, updated.order_reference)
            return updated

        return await self._db.retrying(work)

    async def plan_waves(self, departures: Mapping[str, Departure], policy: WavePolicy) -> WavePlan:
        """Waves for the given orders (order reference -> its departure), see `plan_waves`,
        all of one region (MixedRegionsError otherwise).

        An order cancelled, or with a pick list already (or past picking), is held with the
        reason instead: a departures file can be older than the orders it names."""
        orders = []
        held: list[tuple[str, HoldReason]] = []
        waved = await self.pick_listed(departures)
        first: tuple[str, str] | None = None
        for reference, departure in departures.items():
            order = await self._orders.get(reference)
            here = (order.reference, order.region.value)
            first = first or here
            if here[1] != first[1]:
                raise MixedRegionsError(first, here)
            if order.status is OrderStatus.CANCELLED:
                held.append((order.reference, HoldReason.CANCELLED))
                continue
            if order.reference in waved or order.status not in TO_PICK:
                held.append((order.reference, HoldReason.ALREADY_WAVED))
                continue
            orders.append(
                WaveOrder(
                    reference=order.reference,
                    route=departure.route,
                    departure=departure.at,
                    placed_at=order.created_at,
                    lines=len(order.lines),
                )
            )
        plan = plan_waves(orders, policy)
        return WavePlan(plan.waves, (*plan.held, *held))

    async def release_wave(self, warehouse_id: str, plan: WavePlan, number: int) -> list[PickList]:
        """Make the pick lists of one planned wave."""
        wave = next(w for w in plan.waves if w.number == number)
        label = f"W{wave.due:%Y%m%d%H%M}-{number}"
        return [await self.pick_list(warehouse_id, ref, label) for ref in wave.orders]

    async def release_waves(self, warehouse_id: str, plan: WavePlan) -> WavePlan:
        """Make the pick lists of every planned wave; the plan as released comes back.

        An order its bins cannot fill (they hold less than the catalogue's on hand: goods lost,
        stock loaded outside the warehouse) is held as BINS_SHORT and the others go on: one
        short bin never stops the night's picking."""
        waves: list[Wave] = []
        short: list[tuple[str, HoldReason]] = []
        for wave in plan.waves:
            label = f"W{wave.due:%Y%m%d%H%M}-{wave.number}"
            batches: list[tuple[str, ...]] = []
            for batch in wave.batches:
                picked: list[str] = []
                for reference in batch:
                    try:
                        await self.pick_list(warehouse_id, reference, label)
                    except InsufficientStockError as exc:
                        log.warning("wms.wave_order_short", reference=reference, error=str(exc))
                        short.append((reference, HoldReason.BINS_SHORT))
                    else:
                        picked.append(reference)
                if picked:
                    batches.append(tuple(picked))
            if batches:
                waves.append(replace(wave, batches=tuple(batches)))
        return WavePlan(tuple(waves), (*plan.held, *short))

    async def _pack_in(self, s: AsyncSession, reference: str) -> None:
        """The order is packed, in the caller's transaction (unless already beyond picking)."""
        try:
            await self._orders.advance_in(s, reference, OrderStatus.PACKED)
        except InvalidTransitionError as exc:
            log.info("wms.order_not_moved", reference=reference, error=str(exc))

    async def _move_order_in(self, s: AsyncSession, order: Order, *targets: OrderStatus) -> None:
        """Advance the order through `targets` in the caller's transaction, skipping steps it
        has already passed."""
        status = order.status
        for target in targets:
            if status is target:
                continue
            try:
                status = (await self._orders.advance_in(s, order.reference, target)).status
            except InvalidTransitionError as exc:
                # Already beyond this step (confirmed by payment, say): nothing to move.
                log.info("wms.order_not_moved", reference=order.reference, error=str(exc))
