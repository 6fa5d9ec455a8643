"""The warehouse's rules as a warehouse manager would check them on paper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.wms import (
    HoldReason,
    InsufficientStockError,
    Layout,
    NoLocationError,
    PathPolicy,
    Point,
    StockAt,
    WaveOrder,
    WavePolicy,
    grid,
    pick_path,
    plan_waves,
    tour_length,
    walk,
)
from engines.wms.model import allocate_picks, choose_putaway, choose_putaways

LAYOUT = Layout("WH", depth=30.0, dock_x=0.0)
BINS = grid("WH", "Z", aisles=4, bays=10, levels=2, capacity=50)
BY_ID = {loc.id: loc for loc in BINS}


def test_walking_between_aisles_goes_round_the_shorter_end() -> None:
    near_front = walk(LAYOUT, Point(4, 2), Point(8, 3))
    near_back = walk(LAYOUT, Point(4, 28), Point(8, 27))
    assert near_front == 4 + 2 + 3
    assert near_back == 4 + 2 + 3
    assert walk(LAYOUT, Point(4, 2), Point(4, 20)) == 18


def test_put_away_consolidates_then_takes_the_empty_bin_nearest_the_dock() -> None:
    first = choose_putaway(LAYOUT, BINS, [], "RICE", 20)
    assert first.id == "WH:A01-B01-L1-1"  # nearest the dock, ground level
    held = [StockAt(first.id, "RICE", 20)]
    assert choose_putaway(LAYOUT, BINS, held, "RICE", 30).id == first.id  # fills it up
    # No room left there for 31 more: the next empty bin, never one holding another SKU.
    other = choose_putaway(LAYOUT, BINS, held, "RICE", 31)
    assert other.id == "WH:A01-B01-L2-1"
    oil = choose_putaway(LAYOUT, BINS, held, "OIL", 5)
    assert oil.id != first.id


def test_put_away_refuses_when_nothing_has_room() -> None:
    with pytest.raises(NoLocationError):
        choose_putaway(LAYOUT, BINS, [], "RICE", 51)


def test_goods_back_from_the_dock_fill_as_many_bins_as_they_need() -> None:
    held = [StockAt("WH:A01-B01-L1-1", "RICE", 30), StockAt("WH:A01-B01-L2-1", "OIL", 10)]
    assert choose_putaways(LAYOUT, BINS, held, "RICE", 20) == [
        (choose_putaway(LAYOUT, BINS, held, "RICE", 20), 20)  # one bin takes it: the same rule
    ]
    parts = choose_putaways(LAYOUT, BINS, held, "RICE", 130)  # no bin takes 130: 50 at most
    assert [(loc.id, n) for loc, n in parts] == [
        ("WH:A01-B02-L1-1", 50),  # the empty bins nearest the dock, never the oil's
        ("WH:A01-B02-L2-1", 50),
        ("WH:A01-B03-L1-1", 30),
    ]
    room = 50 * len(BINS) - 30 - 50  # every bin but what the rice and the oil's bin fill
    with pytest.raises(NoLocationError):
        choose_putaways(LAYOUT, BINS, held, "RICE", room + 1)
    assert sum(n for _, n in choose_putaways(LAYOUT, BINS, held, "RICE", room)) == room


def test_pick_list_takes_the_nearest_bins_and_splits_a_line() -> None:
    stock = [
        StockAt("WH:A04-B10-L1-1", "RICE", 100),
        StockAt("WH:A01-B02-L1-1", "RICE", 3),
        StockAt("WH:A01-B05-L1-1", "RICE", 4),
    ]
    lines = allocate_picks(LAYOUT, BY_ID, stock, [("RICE", 5)])
    assert [(ln.location_id, ln.quantity) for ln in lines] == [
        ("WH:A01-B02-L1-1", 3),
        ("WH:A01-B05-L1-1", 2),
    ]
    with pytest.raises(InsufficientStockError) as caught:
        allocate_picks(LAYOUT, BY_ID, stock, [("RICE", 108)])
    assert caught.value.available == 107


def test_s_shape_walks_each_aisle_through_and_returns_from_an_odd_last_one() -> None:
    points = [Point(4, 5), Point(8, 10), Point(12, 7)]
    path = pick_path(LAYOUT, points, PathPolicy.S_SHAPE)
    # Across to aisle x=12 and back (24), two aisles through (60), last one in and out (14).
    assert path.distance == 24 + 60 + 14
    assert path.stops == (Point(4, 5), Point(8, 10), Point(12, 7))


def test_largest_gap_skips_the_middle_of_a_middle_aisle() -> None:
    points = [Point(4, 5), Point(8, 2), Point(8, 29), Point(12, 7)]
    path = pick_path(LAYOUT, points, PathPolicy.LARGEST_GAP)
    # First and last aisles through (60), across (24), middle aisle: 2 m from the front and
    # 1 m from the back, each there and back (6).
    assert path.distance == 24 + 60 + 6
    s_shape = pick_path(LAYOUT, points, PathPolicy.S_SHAPE)
    assert path.distance < s_shape.distance


points_strategy = st.lists(
    st.builds(
        Point,
        st.sampled_from([4.0, 8.0, 12.0, 16.0, 20.0]),
        st.integers(min_value=1, max_value=29).map(float),
    ),
    min_size=1,
    max_size=16,
)


@settings(max_examples=30, deadline=None)
@given(points_strategy)
def test_the_optimised_path_is_never_longer_and_visits_every_pick(points: list[Point]) -> None:
    paths = {p: pick_path(LAYOUT, points, p, time_limit_ms=50) for p in PathPolicy}
    for path in paths.values():
        assert sorted(path.stops, key=lambda p: (p.x, p.y)) == sorted(
            set(points), key=lambda p: (p.x, p.y)
        )
        # A policy walks at least the shortest walk through its own order.
        assert path.distance >= tour_length(LAYOUT, path.stops) - 1e-6
    optimal = paths[PathPolicy.OPTIMAL].distance
    assert optimal <= paths[PathPolicy.S_SHAPE].distance + 1e-6
    assert optimal <= paths[PathPolicy.LARGEST_GAP].distance + 1e-6


T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
POLICY = WavePolicy(cutoff_minutes=120, pickers=2, lines_per_picker=10)


def order(ref: str, route: str, depart_h: int, lines: int, placed_h: float = -12) -> WaveOrder:
    return WaveOrder(
        ref, route, T0 + timedelta(hours=depart_h), T0 + timedelta(hours=placed_h), lines
    )


def test_waves_follow_departures_keep_a_route_together_and_hold_late_orders() -> None:
    orders = [
        order("A1", "R-north", 4, 6),
        order("A2", "R-north", 4, 5),
        order("B1", "R-east", 2, 8),
        order("C1", "R-west", 6, 9),
        order("C2", "R-west", 6, 4),
        order("LATE", "R-east", 2, 1, placed_h=1),  # in after the 2-hour cut-off
        order("HUGE", "R-east", 2, 11),
    ]
    plan = plan_waves(orders, POLICY)
    assert dict(plan.held) == {"LATE": HoldReason.MISSED_CUTOFF, "HUGE": HoldReason.TOO_BIG}
    # East (8 lines) and north (6 + 5) make 19 lines, but two pickers of 10 cannot share them:
    # north waits for the next wave whole rather than leaving one order behind.
    assert [w.routes for w in plan.waves] == [("R-east",), ("R-north",), ("R-west",)]
    assert [w.due for w in plan.waves] == [T0 + timedelta(hours=h) for h in (2, 4, 6)]
    assert plan.waves[1].batches == (("A1",), ("A2",))


wave_orders = st.lists(
    st.builds(
        order,
        st.text("ABCDEFGHJK", min_size=3, max_size=3),
        st.sampled_from(["R1", "R2", "R3", "R4"]),
        st.integers(min_value=1, max_value=10),
        st.integers(min_value=1, max_value=10),
        st.floats(min_value=-24, max_value=9),
    ),
    max_size=40,
    unique_by=lambda o: o.reference,
)


@settings(max_examples=60, deadline=None)
@given(wave_orders)
def test_every_order_is_planned_once_or_held_and_no_picker_is_overloaded(
    orders: list[WaveOrder],
) -> None:
    plan = plan_waves(orders, POLICY)
    lines = {o.reference: o.lines for o in orders}
    planned = [ref for wave in plan.waves for ref in wave.orders]
    held = [ref for ref, _ in plan.held]
    assert sorted(planned + held) == sorted(lines)
    for wave in plan.waves:
        for batch in wave.batches:
            assert sum(lines[ref] for ref in batch) <= POLICY.lines_per_picker
    dues = [wave.due for wave in plan.waves]
    assert dues == sorted(dues)
