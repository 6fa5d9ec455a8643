"""The warehouse: zones, locations on a rectangular aisle layout, stock per location, picks.

Pure domain code. Walking distances assume the classic parallel-aisle warehouse (Ratliff &
Rosenthal): pick aisles run along y between a front cross-aisle (y = 0, where the dock is) and a
back cross-aisle (y = `Layout.depth`); a location's x/y is the point in its aisle where a picker
stands to reach it, so two locations at the same x share an aisle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class WarehouseError(Exception):
    """Base of the warehouse context's domain errors."""


class InsufficientStockError(WarehouseError):
    """`location_id`: the bin that holds too little, when one bin was asked."""

    def __init__(
        self, sku: str, wanted: int, available: int, location_id: str | None = None
    ) -> None:
        super().__init__(f"{sku}: wanted {wanted}, {available} available")
        self.sku = sku
        self.wanted = wanted
        self.available = available
        self.location_id = location_id


class NoLocationError(WarehouseError):
    """Put-away found no location in the zone with room for the goods."""


class UnknownPickError(WarehouseError):
    pass


class UnknownLocationError(WarehouseError):
    def __init__(self, warehouse_id: str, location_id: str) -> None:
        super().__init__(f"{warehouse_id} has no bin {location_id}")
        self.location_id = location_id


class BinHoldsOtherSkuError(WarehouseError):
    """A bin holds one SKU: a count of another one there is a count of the wrong bin."""

    def __init__(self, location_id: str, held: str) -> None:
        super().__init__(f"{location_id} holds {held}")
        self.location_id = location_id
        self.held = held


class CountError(WarehouseError):
    pass


class OverPickError(WarehouseError):
    def __init__(self, line: int, wanted: int, remaining: int) -> None:
        super().__init__(f"pick line {line}: {wanted} confirmed, {remaining} left to pick")
        self.line = line
        self.wanted = wanted
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class Layout:
    """A warehouse's walking geometry: aisle length and where the dock is on the front aisle."""

    warehouse_id: str
    depth: float
    dock_x: float = 0.0


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    warehouse_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Location:
    """One bin: aisle, bay (along the aisle), level (height), bin; x/y where it is picked."""

    id: str
    warehouse_id: str
    zone_id: str
    aisle: int
    bay: int
    level: int
    bin: int
    x: float
    y: float
    capacity: int

    @staticmethod
    def code(aisle: int, bay: int, level: int, bin_: int) -> str:
        """A label a picker reads off the rack: A03-B12-L2-1."""
        return f"A{aisle:02d}-B{bay:02d}-L{level}-{bin_}"

    @property
    def point(self) -> Point:
        return Point(self.x, self.y)


@dataclass(frozen=True, slots=True)
class StockAt:
    location_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Site:
    """A region's warehouse and where it stands (None: no location recorded)."""

    warehouse_id: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A warehouse as operators see it: its region, name and where it stands (None: unknown)."""

    id: str
    region: str
    name: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class StockDrift:
    """A SKU whose bins (the dock included) do not hold what the catalogue says is on hand."""

    sku: str
    on_hand: int
    in_bins: int

    @property
    def difference(self) -> int:
        return self.in_bins - self.on_hand


@dataclass(frozen=True, slots=True)
class Counted:
    """A bin counted: what it held on record, what was found, and the SKU's on hand after."""

    location_id: str
    sku: str
    recorded: int
    counted: int
    on_hand: int
    reserved: int


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


def grid(
    warehouse_id: str,
    zone_id: str,
    *,
    aisles: int,
    bays: int,
    levels: int = 1,
    bins: int = 1,
    first_aisle: int = 1,
    aisle_pitch: float = 4.0,
    bay_pitch: float = 1.5,
    front: float = 2.0,
    capacity: int = 100,
) -> list[Location]:
    """A block of racks: aisle a at x = a * pitch, bay b at y = front + (b - 0.5) * pitch.

    Both sides of an aisle and every level of a bay are picked from the same spot, so they
    share x/y (walking distance ignores the reach up or across).
    """
    return [
        Location(
            id=f"{warehouse_id}:{Location.code(a, b, lv, bn)}",
            warehouse_id=warehouse_id,
            zone_id=zone_id,
            aisle=a,
            bay=b,
            level=lv,
            bin=bn,
            x=a * aisle_pitch,
            y=front + (b - 0.5) * bay_pitch,
            capacity=capacity,
        )
        for a in range(first_aisle, first_aisle + aisles)
        for b in range(1, bays + 1)
        for lv in range(1, levels + 1)
        for bn in range(1, bins + 1)
    ]


def walk(layout: Layout, a: Point, b: Point) -> float:
    """Shortest walk between two points: within one aisle straight, else via a cross-aisle."""
    if abs(a.x - b.x) < 1e-9:
        return abs(a.y - b.y)
    front = a.y + b.y
    back = (layout.depth - a.y) + (layout.depth - b.y)
    return abs(a.x - b.x) + min(front, back)


def dock(layout: Layout) -> Point:
    return Point(layout.dock_x, 0.0)


# --- put-away ---------------------------------------------------------------------------------


def choose_putaway(
    layout: Layout,
    locations: Sequence[Location],
    stock: Sequence[StockAt],
    sku: str,
    quantity: int,
    *,
    zone_id: str | None = None,
) -> Location:
    """The put-away rule: consolidate, then closest to the dock, low levels first.

    1. A location (in the zone) that already holds this SKU and has room for all of it, the
       fullest first, so a SKU stays in as few bins as possible and picks stay short;
    2. else an empty location with room, the nearest to the dock by walking distance, then the
       lowest level (no ladder), then the code — fast movers arrive first and sit nearest.
    A location never holds two SKUs. Raises NoLocationError when nothing fits.
    """
    if quantity <= 0:
        raise ValueError(f"quantity must be positive: {quantity}")
    held: dict[str, dict[str, int]] = {}
    for s in stock:
        if s.quantity > 0:
            held.setdefault(s.location_id, {})[s.sku] = s.quantity
    candidates = [loc for loc in locations if zone_id is None or loc.zone_id == zone_id]
    same = [
        loc
        for loc in candidates
        if set(held.get(loc.id, {})) == {sku} and loc.capacity - held[loc.id][sku] >= quantity
    ]
    if same:
        return max(same, key=lambda loc: (held[loc.id][sku], -loc.level, _neg_code(loc)))
    empty = [loc for loc in candidates if loc.id not in held and loc.capacity >= quantity]
    if not empty:
        raise NoLocationError(f"no room for {quantity} x {sku}")
    origin = dock(layout)
    return min(
        empty, key=lambda loc: (walk(layout, origin, Point(loc.x, loc.y)), loc.level, loc.id)
    )


def choose_putaways(
    layout: Layout,
    locations: Sequence[Location],
    stock: Sequence[StockAt],
    sku: str,
    quantity: int,
    *,
    zone_id: str | None = None,
) -> list[tuple[Location, int]]:
    """`choose_putaway` for goods that may need more than one bin: what comes back from the
    dock (a cancelled or returned order) can be more than any one bin holds. All of it goes to
    the bin the rule picks when one has room, else the most one bin takes, again, until all is
    away. Raises NoLocationError, before anything is placed, when the bins have no room for it."""
    held = {(s.location_id, s.sku): s.quantity for s in stock if s.quantity > 0}
    candidates = [loc for loc in locations if zone_id is None or loc.zone_id == zone_id]
    placed: list[tuple[Location, int]] = []
    left = quantity
    while left > 0:
        now = [StockAt(loc, held_sku, n) for (loc, held_sku), n in held.items()]
        rooms = [_room(loc, now, sku) for loc in candidates]
        part = min(left, max(rooms, default=0))
        if part <= 0:
            raise NoLocationError(f"no room for {quantity} x {sku}")
        target = choose_putaway(layout, candidates, now, sku, part)
        placed.append((target, part))
        held[(target.id, sku)] = held.get((target.id, sku), 0) + part
        left -= part
    return placed


def _room(loc: Location, stock: Sequence[StockAt], sku: str) -> int:
    """What more of `sku` the bin takes: none when it holds another SKU."""
    here = [s for s in stock if s.location_id == loc.id]
    if any(s.sku != sku for s in here):
        return 0
    return loc.capacity - sum(s.quantity for s in here)


def _neg_code(loc: Location) -> tuple[int, ...]:
    return tuple(-ord(c) for c in loc.id)


# --- pick lists -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PickLine:
    location_id: str
    sku: str
    quantity: int


def allocate_picks(
    layout: Layout,
    locations: Mapping[str, Location],
    stock: Sequence[StockAt],
    wanted: Sequence[tuple[str, int]],
) -> list[PickLine]:
    """Where to take each (sku, quantity) from: the bins nearest the dock first.

    Splits a line across bins when one does not hold enough; raises InsufficientStockError when
    the warehouse's bins together do not (nothing is allocated then).
    """
    origin = dock(layout)
    remaining: dict[tuple[str, str], int] = {(s.location_id, s.sku): s.quantity for s in stock}
    lines: list[PickLine] = []
    for sku, quantity in wanted:
        bins = sorted(
            (
                (loc_id, qty)
                for (loc_id, s), qty in remaining.items()
                if s == sku and qty > 0 and loc_id in locations
            ),
            key=lambda item: (
                walk(layout, origin, Point(locations[item[0]].x, locations[item[0]].y)),
                item[0],
            ),
        )
        available = sum(qty for _, qty in bins)
        if available < quantity:
            raise InsufficientStockError(sku, quantity, available)
        left = quantity
        for loc_id, qty in bins:
            take = min(qty, left)
            lines.append(PickLine(loc_id, sku, take))
            remaining[(loc_id, sku)] = qty - take
            left -= take
            if left == 0:
                break
    return lines


class PickListStatus(StrEnum):
    OPEN = "open"
    PICKED = "picked"
    CANCELLED = "cancelled"  # its order was cancelled: what was picked went back to the bins


@dataclass(frozen=True, slots=True)
class PickListLine:
    position: int
    location_id: str
    sku: str
    quantity: int
    picked: int = 0

    @property
    def remaining(self) -> int:
        return self.quantity - self.picked


@dataclass(frozen=True, slots=True)
class PickList:
    id: str
    warehouse_id: str
    order_reference: str
    wave: str | None
    status: PickListStatus
    lines: tuple[PickListLine, ...]
    created_at: datetime

    @property
    def complete(self) -> bool:
        return all(line.remaining == 0 for line in self.lines)


# --- waves ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaveOrder:
    """An order to pick, with the departure (truck route) it must make."""

    reference: str
    route: str
    departure: datetime
    placed_at: datetime
    lines: int


@dataclass(frozen=True, slots=True)
class WavePolicy:
    """`cutoff` is how long before its departure an order must be in to ride it (0: no cut-off,
    every order placed so far rides); `pickers` people each pick at most `lines_per_picker`
    lines in one wave."""

    cutoff_minutes: int
    pickers: int
    lines_per_picker: int

    @property
    def wave_lines(self) -> int:
        return self.pickers * self.lines_per_picker


@dataclass(frozen=True, slots=True)
class Wave:
    number: int
    routes: tuple[str, ...]
    due: datetime  # the earliest departure it feeds
    batches: tuple[tuple[str, ...], ...]  # order references per picker

    @property
    def orders(self) -> tuple[str, ...]:
        return tuple(ref for batch in self.batches for ref in batch)


class HoldReason(StrEnum):
    MISSED_CUTOFF = "missed_cutoff"
    TOO_BIG = "too_big"  # more lines than one picker can carry in a wave
    CANCELLED = "cancelled"  # nothing to pick: the order was cancelled
    ALREADY_WAVED = "already_waved"  # an earlier wave took it (or it left): never picked twice
    BINS_SHORT = "bins_short"  # its bins hold less than on hand says: count them (`stock check`)


@dataclass(frozen=True, slots=True)
class WavePlan:
    waves: tuple[Wave, ...]
    held: tuple[tuple[str, HoldReason], ...] = field(default=())


def plan_waves(orders: Iterable[WaveOrder], policy: WavePolicy) -> WavePlan:
    """Batch orders into pick waves by departure, cut-off and picker capacity.

    Orders placed after their route's cut-off are held (they ride the next departure). Routes
    are taken in departure order and each route's orders stay in one wave when the route fits
    a wave at all, so a truck waits for one wave, not several; a wave never has more lines than
    its pickers can carry. Within a wave orders go to pickers largest first onto the least
    loaded picker (LPT), so the wave ends when its slowest picker does.
    """
    if policy.pickers <= 0 or policy.lines_per_picker <= 0:
        raise ValueError("a wave needs at least one picker with some capacity")
    held: list[tuple[str, HoldReason]] = []
    routes: dict[tuple[datetime, str], list[WaveOrder]] = {}
    for order in sorted(orders, key=lambda o: (o.departure, o.route, o.placed_at, o.reference)):
        cutoff = order.departure.timestamp() - policy.cutoff_minutes * 60
        if policy.cutoff_minutes and order.placed_at.timestamp() > cutoff:
            held.append((order.reference, HoldReason.MISSED_CUTOFF))
        elif order.lines > policy.lines_per_picker:
            held.append((order.reference, HoldReason.TOO_BIG))
        else:
            routes.setdefault((order.departure, order.route), []).append(order)
    waves: list[list[WaveOrder]] = []
    current: list[WaveOrder] = []
    for _key, route_orders in sorted(routes.items()):
        if current and not _fits(current, route_orders, policy) and _fits([], route_orders, policy):
            waves.append(current)
            current = []
        for order in route_orders:
            if not _fits(current, [order], policy):
                waves.append(current)
                current = []
            current.append(order)
    if current:
        waves.append(current)
    built = []
    for number, wave_orders in enumerate(waves, start=1):
        batches = _batches(wave_orders, policy)
        built.append(
            Wave(
                number=number,
                routes=tuple(dict.fromkeys(o.route for o in wave_orders)),
                due=min(o.departure for o in wave_orders),
                batches=batches,
            )
        )
    return WavePlan(tuple(built), tuple(held))


def _lines(orders: Sequence[WaveOrder]) -> int:
    return sum(o.lines for o in orders)


def _fits(current: Sequence[WaveOrder], more: Sequence[WaveOrder], policy: WavePolicy) -> bool:
    """Room in the wave's total, and the orders can still be dealt to the pickers."""
    if _lines(current) + _lines(more) > policy.wave_lines:
        return False
    loads = [0] * policy.pickers
    for o in sorted([*current, *more], key=lambda o: (-o.lines, o.reference)):
        i = loads.index(min(loads))
        loads[i] += o.lines
    return max(loads) <= policy.lines_per_picker


def _batches(orders: Sequence[WaveOrder], policy: WavePolicy) -> tuple[tuple[str, ...], ...]:
    loads = [0] * policy.pickers
    batches: list[list[str]] = [[] for _ in range(policy.pickers)]
    for o in sorted(orders, key=lambda o: (-o.lines, o.reference)):
        i = loads.index(min(loads))
        loads[i] += o.lines
        batches[i].append(o.reference)
    return tuple(tuple(b) for b in batches if b)
