"""`omniroute waves plan FILE`: an operator batches tomorrow's orders into pick waves."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.app.bootstrap import build_services
from core.app.cli import main
from core.app.demo import load_distribution_demo
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from tests.support.demo_template import seed_demo


def place_orders(
    database_url: str,
    count: int,
    phone: str = "+2348030000001",
    region: RegionCode = RegionCode.LAGOS,
) -> list[str]:
    async def run() -> list[str]:
        services = build_services(
            Settings(env="test", database_url=database_url, _env_file=None),
            clock=SteppedClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC)),
            ids=RandomIds(),
        )
        try:
            await seed_demo(services.db, services.clock.now())
            refs = []
            for n in range(count):
                order = await services.orders.place(
                    PlaceOrder(
                        Phone(phone),
                        region,
                        (CartLine("NDL-INDO-CHK", 1), CartLine("OIL-VEG-5L", 1)),
                        PaymentMethod.ON_DELIVERY,
                        f"cli-{region}-{n}",
                    )
                )
                refs.append(order.reference)
            return refs
        finally:
            await services.close()

    return asyncio.run(run())


def test_waves_plan_prints_the_waves_as_json(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    refs = place_orders(database_url, 3)
    tomorrow = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    plan_file = tmp_path / "departures.json"
    plan_file.write_text(
        json.dumps(
            {
                "orders": [
                    {"reference": refs[0], "route": "R-1", "departure": tomorrow.isoformat()},
                    {"reference": refs[1], "route": "R-1", "departure": tomorrow.isoformat()},
                    {
                        "reference": refs[2],
                        "route": "R-2",
                        "departure": (tomorrow + timedelta(hours=2)).isoformat(),
                    },
                ]
            }
        )
    )

    code = main(["waves", "plan", str(plan_file), "--pickers", "1", "--lines-per-picker", "4"])

    assert code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan == {
        "waves": [
            {
                "number": 1,
                "due": "2026-12-03T07:00:00Z",
                "routes": ["R-1"],
                "pickers": [sorted(refs[:2])],
            },
            {"number": 2, "due": "2026-12-03T09:00:00Z", "routes": ["R-2"], "pickers": [[refs[2]]]},
        ],
        "held": [],
    }


def test_waves_plan_refuses_a_bad_file_with_one_line(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    bad = tmp_path / "bad.json"
    bad.write_text('{"orders": [{"reference": "X", "route": "R", "departure": "tomorrow"}]}')
    assert main(["waves", "plan", str(bad)]) == 2
    assert main(["waves", "plan", str(tmp_path / "missing.json")]) == 2
    missing_order = tmp_path / "unknown.json"
    missing_order.write_text(
        '{"orders": [{"reference": "ZZZZZZ", "route": "R", "departure": "2026-12-03T07:00:00Z"}]}'
    )
    assert main(["waves", "plan", str(missing_order)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3
    assert errors[0].startswith(f"omniroute waves plan: {bad}: orders.0.departure:")
    assert errors[2] == "omniroute waves plan: no order ZZZZZZ"
    with pytest.raises(SystemExit) as exited:
        main(["waves", "plan", str(bad), "--pickers", "0"])
    assert exited.value.code == 2


def test_waves_plan_names_where_a_file_stops_being_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.json"
    cut.write_text('{"orders": [\n  {"reference": "W62ACJ", "route": "R-LAG-1"\n')
    assert main(["waves", "plan", str(cut)]) == 2
    assert capsys.readouterr().err == (
        f"omniroute waves plan: {cut}: not valid JSON: EOF while parsing an object at line 3"
        " column 0\n"
    )


def test_an_order_cancelled_or_already_waved_is_held_not_picked_again(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A departures file a day old named an order cancelled since and one an earlier wave took:
    both were planned into the wave, so pickers picked goods nobody would take and an order
    twice."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    fresh, cancelled, waved = place_orders(database_url, 3)

    async def since() -> None:
        services = build_services(Settings(env="test", database_url=database_url, _env_file=None))
        try:
            await load_distribution_demo(services.db, services.clock.now())
            await services.orders.advance(cancelled, OrderStatus.CANCELLED)
            await services.warehouse.pick_list("WH-LAGOS", waved, "W202612030700-1")
        finally:
            await services.close()

    asyncio.run(since())
    departs = "2026-12-03T07:00:00Z"
    plan_file = tmp_path / "departures.json"
    plan_file.write_text(
        json.dumps(
            {
                "orders": [
                    {"reference": r, "route": "R-1", "departure": departs}
                    for r in (fresh, cancelled, waved)
                ]
            }
        )
    )

    assert main(["waves", "plan", str(plan_file)]) == 0

    plan = json.loads(capsys.readouterr().out)
    assert plan["waves"] == [{"number": 1, "due": departs, "routes": ["R-1"], "pickers": [[fresh]]}]
    assert sorted(plan["held"], key=lambda h: h["reference"]) == sorted(
        [
            {"reference": cancelled, "reason": "cancelled"},
            {"reference": waved, "reason": "already_waved"},
        ],
        key=lambda h: h["reference"],
    )


def test_an_order_listed_on_two_departures_is_refused_with_one_line(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An order on two routes of a departures file was planned silently on the last one named."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    [ref] = place_orders(database_url, 1)
    plan_file = tmp_path / "departures.json"
    plan_file.write_text(
        json.dumps(
            {
                "orders": [
                    {"reference": ref, "route": "R-1", "departure": "2026-12-03T07:00:00Z"},
                    {"reference": ref.lower(), "route": "R-2", "departure": "2026-12-03T09:00Z"},
                ]
            }
        )
    )

    assert main(["waves", "plan", str(plan_file)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"omniroute waves plan: {plan_file}: orders.1: order {ref} is on route R-1 already; "
        "an order rides one departure\n"
    )


def test_a_zero_cutoff_waves_every_order_placed_so_far(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The orders were placed at 09:00; a truck leaving at 09:30, or already gone at 08:00 and
    coming back for a second run, should take them all when the warehouse says so."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    early, late = place_orders(database_url, 2)
    plan_file = tmp_path / "departures.json"
    plan_file.write_text(
        json.dumps(
            {
                "orders": [
                    {"reference": early, "route": "R-1", "departure": "2026-12-02T08:00:00Z"},
                    {"reference": late, "route": "R-2", "departure": "2026-12-02T09:30:00Z"},
                ]
            }
        )
    )

    assert main(["waves", "plan", str(plan_file)]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["waves", "plan", str(plan_file), "--cutoff-minutes", "0"]) == 0
    zero = json.loads(capsys.readouterr().out)

    assert {h["reason"] for h in default["held"]} == {"missed_cutoff"}
    assert zero["held"] == []
    assert sorted(ref for wave in zero["waves"] for batch in wave["pickers"] for ref in batch) == (
        sorted([early, late])
    )


def test_a_file_mixing_regions_is_refused_with_one_line(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Lagos's pickers were given a Nairobi order in the same wave: one plan is one warehouse."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    [lagos] = place_orders(database_url, 1)
    [nairobi] = place_orders(database_url, 1, "+254711000001", RegionCode.NAIROBI)
    plan_file = tmp_path / "departures.json"
    departs = "2026-12-03T07:00:00Z"
    plan_file.write_text(
        json.dumps(
            {
                "orders": [
                    {"reference": lagos, "route": "R-1", "departure": departs},
                    {"reference": nairobi, "route": "R-1", "departure": departs},
                ]
            }
        )
    )

    assert main(["waves", "plan", str(plan_file)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"omniroute waves plan: {plan_file}: order {nairobi} is in nairobi but order {lagos} is "
        "in lagos: plan each region's waves on their own\n"
    )


def test_a_negative_cutoff_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["waves", "plan", str(tmp_path / "any.json"), "--cutoff-minutes", "-5"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "omniroute waves plan: argument --cutoff-minutes: not a whole number of 0 or more: '-5'"
    )
