"""`omniroute stock check|count`: an operator finds the SKUs whose bins do not hold what the
catalogue has on hand, counts the bin, and the two agree again; a count that cannot be right is one
clear line, exit 2, and changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from core.app.bootstrap import build_services
from core.app.cli import main
from core.app.demo import load_demo, load_distribution_demo
from core.clock import SystemClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import stock_levels
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.wms import StockAt

WH = "WH-LAGOS"
RICE = "RCE-LONG-25K"


def demo_with_rice_received_outside_the_wms(database_url: str, extra: int) -> StockAt:
    """The demo warehouse, whose bins agree with the catalogue, then `extra` bags of rice added
    to on hand directly (a spreadsheet import): where the rice's bin is."""

    async def run() -> StockAt:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            await load_demo(services.db, SystemClock().now())
            await load_distribution_demo(services.db, SystemClock().now())
            async with services.db.transaction() as s:
                await s.execute(
                    update(stock_levels)
                    .where(stock_levels.c.warehouse_id == WH, stock_levels.c.sku == RICE)
                    .values(on_hand=stock_levels.c.on_hand + extra)
                )
            (shelf,) = await services.warehouse.stock(WH, RICE)
            return shelf
        finally:
            await services.close()

    return asyncio.run(run())


def test_check_lists_the_drift_and_a_count_of_the_bin_ends_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 12)
    label = shelf.location_id.removeprefix(f"{WH}:")

    assert main(["stock", "check", "wh-lagos"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "sku,on_hand,in_bins,difference",
        f"{RICE},{shelf.quantity + 12},{shelf.quantity},-12",
    ]

    # The 12 bags were put on the same shelf: the operator counts it.
    assert main(["stock", "count", WH, label, RICE, str(shelf.quantity + 12)]) == 0
    said = capsys.readouterr().out
    assert f"{shelf.location_id}: {shelf.quantity + 12} x {RICE} (+12 against the record" in said
    assert f"on hand {shelf.quantity + 12}, 0 reserved" in said

    assert main(["stock", "check", WH]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "the bins hold what the catalogue has on hand" in err


def test_a_count_that_cannot_be_right_is_one_line_and_exit_2(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 0)
    label = shelf.location_id.removeprefix(f"{WH}:")

    assert main(["stock", "count", WH, label, "OIL-VEG-5L", "4"]) == 2
    assert capsys.readouterr().err == (
        f"omniroute stock count: {shelf.location_id} holds {RICE}: a bin holds one SKU; "
        "count that bin again\n"
    )
    assert main(["stock", "count", WH, "A99-B01-L1-1", RICE, "4"]) == 2
    assert "WH-LAGOS has no bin WH-LAGOS:A99-B01-L1-1" in capsys.readouterr().err
    assert main(["stock", "check", "WH-NOWHERE"]) == 2
    assert "no warehouse WH-NOWHERE with bins" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        main(["stock", "count", WH, label, RICE, "-4"])
    assert bad.value.code == 2

    assert main(["stock", "check", WH]) == 0  # nothing changed


@pytest.mark.parametrize("typed", ["3000000000", "99999999999999999999"])
def test_a_count_with_too_many_digits_is_one_line_and_changes_nothing(
    typed: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A slipped finger once printed a traceback (or stored more than PostgreSQL's INTEGER)."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 0)
    label = shelf.location_id.removeprefix(f"{WH}:")
    with pytest.raises(SystemExit) as bad:
        main(["stock", "count", WH, label, RICE, typed])
    assert bad.value.code == 2
    assert capsys.readouterr().err == (
        f"omniroute stock count: argument QUANTITY: more than 2,147,483,647 cannot be right: "
        f"{typed!r}\n"
    )
    assert main(["stock", "check", WH]) == 0  # nothing changed


@pytest.mark.parametrize("typed", ["RCE-LONG-25", "NOT-A-PRODUCT", "X" * 41])
def test_a_count_of_a_sku_the_catalogue_does_not_have_is_refused(
    typed: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A mistyped SKU was once taken as a new product: stock of it appeared in an empty bin and
    on hand, and the SKU meant was never counted."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    demo_with_rice_received_outside_the_wms(database_url, 0)

    assert main(["stock", "count", WH, "A02-B01-L1-1", typed, "5"]) == 2

    assert capsys.readouterr().err == (
        f"omniroute stock count: {WH}'s catalogue has no SKU {typed}: check the label\n"
    )
    assert main(["stock", "check", WH]) == 0  # nothing changed

    async def bins_of_it() -> list[StockAt]:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            return await services.warehouse.stock(WH, typed, dock=True)
        finally:
            await services.close()

    assert asyncio.run(bins_of_it()) == []


def test_the_dock_is_counted_by_its_name(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Picked goods wait at the dock, and `check` counts them there, but a count of the dock
    was refused as an unknown bin (`WH-LAGOS:DOCK`), however it was typed."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    demo_with_rice_received_outside_the_wms(database_url, 0)

    async def pick_three_bags() -> None:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            order = await services.orders.place(
                PlaceOrder(
                    Phone("+2348030000001"),
                    RegionCode.LAGOS,
                    (CartLine(RICE, 3),),
                    PaymentMethod.ON_DELIVERY,
                    "dock-count",
                )
            )
            pick = await services.warehouse.pick_list(WH, order.reference)
            for line in pick.lines:
                await services.warehouse.confirm_pick(pick.id, line.position, line.quantity)
        finally:
            await services.close()

    asyncio.run(pick_three_bags())

    for typed in ("dock", f"{WH}:dock"):
        assert main(["stock", "count", WH, typed, RICE, "3"]) == 0
        assert capsys.readouterr().out.startswith(f"{WH}:dock: 3 x {RICE} (as recorded); ")
    assert main(["stock", "check", WH]) == 0


def test_a_count_of_more_than_the_bin_holds_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A slipped zero (3480 bags for 348) was taken: on hand rose by 3,132 bags nobody had, and
    retailers could order them."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 0)
    label = shelf.location_id.removeprefix(f"{WH}:")

    assert main(["stock", "count", WH, label, RICE, str(shelf.quantity * 10)]) == 2

    assert capsys.readouterr().err == (
        f"omniroute stock count: {shelf.location_id} holds at most 500: "
        f"{shelf.quantity * 10} x {RICE} cannot be in it; count again\n"
    )
    assert main(["stock", "check", WH]) == 0  # nothing changed
    assert main(["stock", "count", WH, label, RICE, "500"]) == 0  # a full bin is fine


def test_a_count_below_what_open_pick_lists_take_from_the_bin_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bin counted at less than its open pick lists still take from it was accepted (other
    bins held enough on hand): the pickers sent there could never finish those lists."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    demo_with_rice_received_outside_the_wms(database_url, 0)
    assert main(["stock", "count", WH, "A02-B01-L1-1", RICE, "20"]) == 0  # rice on another shelf
    capsys.readouterr()

    async def pick_list_for_three_bags() -> tuple[str, str]:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            order = await services.orders.place(
                PlaceOrder(
                    Phone("+2348030000001"),
                    RegionCode.LAGOS,
                    (CartLine(RICE, 3),),
                    PaymentMethod.ON_DELIVERY,
                    "promised-count",
                )
            )
            pick = await services.warehouse.pick_list(WH, order.reference)
            [line] = pick.lines
            return order.reference, line.location_id
        finally:
            await services.close()

    reference, location = asyncio.run(pick_list_for_three_bags())
    label = location.removeprefix(f"{WH}:")

    assert main(["stock", "count", WH, label, RICE, "2"]) == 2

    assert capsys.readouterr().err == (
        f"omniroute stock count: {location}: 2 x {RICE} is less than the 3 open pick lists"
        f" still take from it for orders {reference} (3): count again, or cancel those orders"
        " first\n"
    )
    assert main(["stock", "check", WH]) == 0  # nothing changed
    assert main(["stock", "count", WH, label, RICE, "3"]) == 0  # enough for the pickers


def test_goods_found_on_the_dock_before_anything_was_picked_are_counted(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo warehouse has no dock location until its first pick: counting two bags found
    there printed an IntegrityError traceback (the dock's stock row had no location)."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    shelf = demo_with_rice_received_outside_the_wms(database_url, 0)

    assert main(["stock", "count", WH, "dock", RICE, "2"]) == 0

    said = capsys.readouterr().out
    assert said == (
        f"{WH}:dock: 2 x {RICE} (+2 against the record of 0);"
        f" on hand {shelf.quantity + 2}, 0 reserved\n"
    )
    assert main(["stock", "check", WH]) == 0  # the bins and the dock hold what is on hand
