"""`omniroute routes plan`: an operator plans tomorrow's Lagos deliveries from the terminal;
only orders their workflow released are planned."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.app.bootstrap import build_services
from core.app.cli import main
from core.app.demo import load_distribution_demo
from core.clock import SteppedClock, SystemClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode, local_date
from engines.fulfilment.requests import DispatchStep, SqlDispatchRequests
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.wms.tables import wms_stock
from tests.support.demo_template import seed_demo

RETAILERS = ("+2348030000001", "+2348030000002")  # the demo's, with delivery points


def seeded(database_url: str, tomorrow_morning: datetime) -> tuple[list[str], str]:
    async def run() -> tuple[list[str], str]:
        services = build_services(
            Settings(env="test", database_url=database_url, _env_file=None),
            clock=SteppedClock(SystemClock().now()),
            ids=RandomIds(),
        )
        try:
            await seed_demo(services.db, services.clock.now())
            # The demo drivers' shifts start an hour before the `now` they are loaded at.
            await load_distribution_demo(services.db, tomorrow_morning + timedelta(hours=1))
            refs = []
            for n, phone in enumerate(RETAILERS):
                placed = await services.orders.place(
                    PlaceOrder(
                        Phone(phone),
                        RegionCode.LAGOS,
                        (CartLine("NDL-INDO-CHK", 3),),
                        PaymentMethod.ON_DELIVERY,
                        f"cli-plan-{n}",
                    )
                )
                # What the order's workflow does once it may leave (paid, on delivery, credit).
                await SqlDispatchRequests(services.db).add(
                    placed.reference, placed.region.value, DispatchStep.WAVE, services.clock.now()
                )
                refs.append(placed.reference)
            # Still waiting for its M-Pesa money: its workflow has not released it.
            unpaid = await services.orders.place(
                PlaceOrder(
                    Phone(RETAILERS[0]),
                    RegionCode.LAGOS,
                    (CartLine("NDL-INDO-CHK", 1),),
                    PaymentMethod.MPESA,
                    "cli-plan-unpaid",
                )
            )
            return refs, unpaid.reference
        finally:
            await services.close()

    return asyncio.run(run())


def test_routes_plan_prints_tomorrows_routes_and_plans_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)
    seven = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, tzinfo=UTC)
    refs, unpaid = seeded(database_url, seven)

    assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert report["region"] == "lagos"
    assert report["date"] == tomorrow.isoformat()
    assert report["unassigned"] == [{"order": unpaid, "reason": "awaiting_payment"}]
    stops = [s["order"] for r in report["routes"] for s in r["stops"]]
    assert sorted(stops) == sorted(refs)  # not the unpaid one
    assert unpaid not in stops
    assert report["tasks_created"] == len(report["routes"]) >= 1
    first = report["routes"][0]
    assert first["route"] == f"R-LAGOS-{tomorrow:%Y%m%d}-1"
    assert first["departure"] >= seven.isoformat().replace("+00:00", "Z")
    addresses = {s["address"] for r in report["routes"] for s in r["stops"]}
    assert "14 Balogun Street, Lagos Island" in addresses
    assert sorted(ref for w in report["waves"] for p in w["pickers"] for ref in p) == sorted(refs)
    assert report["offers"] == []  # nobody is on shift yet: the dispatcher offers in the morning
    assert {r["waiting_for"] for r in report["routes"]} == {"its_day"}

    day = tomorrow.isoformat()
    assert main(["routes", "plan", "--region", "lagos", "--date", day, "--time-limit", "1"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["tasks_created"] == 0
    assert [r["route"] for r in again["routes"]] == [r["route"] for r in report["routes"]]


def test_routes_plan_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["routes", "plan", "--region", "lagos", "--date", "3/12/2026"])
    assert exited.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_routes_plan_refuses_a_day_that_is_over(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The operator typed yesterday: the answer says so, instead of a plan leaving every order
    # "no_vehicle".
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    today = local_date(RegionCode.LAGOS, SystemClock().now())
    seeded(database_url, datetime(today.year, today.month, today.day, 7, tzinfo=UTC))
    yesterday = (today - timedelta(days=1)).isoformat()

    assert main(["routes", "plan", "--region", "lagos", "--date", yesterday]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"omniroute routes plan: {yesterday} is over in lagos (today there is"
        f" {today.isoformat()}): plan today or a day to come\n"
    )
    assert main(["routes", "plan", "--region", "lagos", "--date", today.isoformat()]) == 0
    assert json.loads(capsys.readouterr().out)["date"] == today.isoformat()


def test_the_plan_on_stdout_is_json_when_the_engines_log(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Orders their workflow moved to picking make the warehouse log a line while it waves them;
    that line was printed on stdout, before the plan, so `routes plan > plan.json` and `| jq`
    broke. Log lines go to stderr, and a command logs only its warnings."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)
    refs, _unpaid = seeded(database_url, datetime(*tomorrow.timetuple()[:3], 7, tzinfo=UTC))

    async def released_to_picking() -> None:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            for ref in refs:  # what the order's workflow does when it releases the order
                await services.orders.advance(ref, OrderStatus.CONFIRMED)
                await services.orders.advance(ref, OrderStatus.PICKING)
        finally:
            await services.close()

    asyncio.run(released_to_picking())

    assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0

    out = capsys.readouterr().out
    report = json.loads(out)
    assert sorted(ref for w in report["waves"] for p in w["pickers"] for ref in p) == sorted(refs)
    assert "wms.order_not_moved" not in out  # an info line: a command logs only warnings


def test_an_order_its_bins_cannot_fill_is_held_and_the_rest_are_waved(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bins holding less than on hand (goods lost, stock loaded outside the warehouse) made the
    plan stop with a traceback half-way: routes made, the plan not printed nor stored, and the
    orders after the short one never given a pick list."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)
    refs, _unpaid = seeded(database_url, datetime(*tomorrow.timetuple()[:3], 7, tzinfo=UTC))

    async def noodles_lost_from_their_bin() -> None:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            async with services.db.transaction() as s:
                await s.execute(
                    update(wms_stock)
                    .where(wms_stock.c.sku == "NDL-INDO-CHK")
                    .values(quantity=4)  # 3 cartons for the first order, not 3 more
                )
        finally:
            await services.close()

    asyncio.run(noodles_lost_from_their_bin())

    assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0

    report = json.loads(capsys.readouterr().out)
    waved = [ref for w in report["waves"] for p in w["pickers"] for ref in p]
    [held] = report["held"]
    assert held["reason"] == "bins_short"
    assert sorted([*waved, held["order"]]) == sorted(refs)
    assert len(waved) == 1


def test_an_order_held_for_short_bins_is_waved_once_they_are_counted(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The held order stays on its route; planning again after the count never gave it a pick
    list (it was on a task already, so it was left out), and it was never picked."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)
    seeded(database_url, datetime(*tomorrow.timetuple()[:3], 7, tzinfo=UTC))

    async def noodles_lost_from_their_bin() -> str:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            async with services.db.transaction() as s:
                await s.execute(
                    update(wms_stock).where(wms_stock.c.sku == "NDL-INDO-CHK").values(quantity=4)
                )
            [shelf] = await services.warehouse.stock("WH-LAGOS", "NDL-INDO-CHK")
            return shelf.location_id
        finally:
            await services.close()

    shelf = asyncio.run(noodles_lost_from_their_bin())
    assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0
    [held] = json.loads(capsys.readouterr().out)["held"]

    # The operator counts the bin: the cartons were there after all.
    assert main(["stock", "count", "WH-LAGOS", shelf, "NDL-INDO-CHK", "200"]) == 0
    assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0

    again = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert again["tasks_created"] == 0
    assert [ref for w in again["waves"] for p in w["pickers"] for ref in p] == [held["order"]]
    assert again["held"] == []


def test_an_order_its_workflow_never_released_is_listed_as_not_released(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pay-on-delivery order whose workflow never sent it to the warehouse (its stage still
    "Reserved") was left out of the plan without a word: neither routed nor listed under
    unassigned or held, so nobody looked for it. It is listed, with why, on every run."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)
    refs, unpaid = seeded(database_url, datetime(*tomorrow.timetuple()[:3], 7, tzinfo=UTC))

    async def placed_but_never_released() -> str:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            placed = await services.orders.place(
                PlaceOrder(
                    Phone(RETAILERS[1]),
                    RegionCode.LAGOS,
                    (CartLine("NDL-INDO-CHK", 2),),
                    PaymentMethod.ON_DELIVERY,
                    "cli-plan-reserved",
                )
            )
            return placed.reference
        finally:
            await services.close()

    stuck = asyncio.run(placed_but_never_released())

    for _run in range(2):  # the second run says so too: nothing of it was stored as planned
        assert main(["routes", "plan", "--region", "lagos", "--time-limit", "1"]) == 0
        report = json.loads(capsys.readouterr().out)
        stops = sorted(s["order"] for r in report["routes"] for s in r["stops"])
        assert stops == sorted(refs)
        assert report["unassigned"] == sorted(
            [
                {"order": unpaid, "reason": "awaiting_payment"},
                {"order": stuck, "reason": "not_released"},
            ],
            key=lambda u: u["order"],
        )
