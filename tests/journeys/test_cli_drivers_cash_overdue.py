"""`omniroute drivers cash` says since when each driver holds his cash and whether that is
overdue (held longer than `OMNIROUTE_DRIVER_CASH_HOLD_HOURS`, 24 by default), so operators chase
the drivers whose takings have not come back to the depot. He hands his oldest cash in first:
once what he took 30 hours ago is in, what he holds dates from his later door. On the real
clock (the command's), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.app.bootstrap import Services
from core.clock import SteppedClock
from engines.gig import CodeCheck
from tests.integration.gig.test_days import packed
from tests.journeys.test_cli_drivers_cash import (  # the same operator set-up
    database_url,  # noqa: F401 (a fixture)
    drivers,
    operator_env,  # noqa: F401 (a fixture)
    settings,  # noqa: F401 (a fixture)
)
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, route

HOUR = 3600


@pytest.fixture
def clock() -> SteppedClock:
    """30 hours ago: Emeka's first door."""
    return SteppedClock(datetime.now(UTC) - timedelta(hours=30))


def rows(out: str) -> dict[str, tuple[str, str, str]]:
    """By driver: the cash he holds, since when, overdue."""
    return {
        r["driver"]: (r["cash"], r["held_since"], r["overdue"])
        for r in csv.DictReader(io.StringIO(out))
    }


def in_lagos(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Africa/Lagos")).replace(microsecond=0).isoformat()


@pytest.mark.usefixtures("operator_env")
async def test_cash_held_longer_than_a_day_is_flagged_until_he_hands_the_oldest_in(
    services: Services,
    clock: SteppedClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    await driver(services, BAYO, "Bayo", capacity=1)
    first = await order(services, NGOZI, "overdue-a", quantity=3)
    second = await order(services, CHIDI, "overdue-b", quantity=2)
    for reference in (first, second):
        await packed(services, reference)
    task = await gig.create_task(
        route(
            "R-overdue",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    took_first_at = clock.now()
    hit = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, first))
    assert hit.outcome is CodeCheck.DELIVERED
    await services.relay.drain()
    clock.advance(20 * HOUR)  # 10 hours ago: his second door
    took_second_at = clock.now()
    await services.orders.deliver(second)
    await services.relay.drain()
    first_cash = (await services.orders.get(first)).total.in_cash()  # whole naira
    second_cash = (await services.orders.get(second)).total.in_cash()
    capsys.readouterr()

    assert await drivers("cash", "--region", "lagos") == 0
    assert rows(capsys.readouterr().out) == {
        EMEKA.e164: (str((first_cash + second_cash).amount), in_lagos(took_first_at), "yes"),
        BAYO.e164: ("0.00", "", "no"),
    }

    # A part of the first door's cash comes in: he still holds some of it, still overdue.
    assert await drivers("cash-in", EMEKA.e164, "1000") == 0
    capsys.readouterr()
    assert await drivers("cash", "--driver", EMEKA.e164) == 0
    [(_, since, overdue)] = rows(capsys.readouterr().out).values()
    assert (since, overdue) == (in_lagos(took_first_at), "yes")

    # The rest of it: what he holds now is the later door's, 10 hours old.
    rest = first_cash.amount - 1000
    assert await drivers("cash-in", EMEKA.e164, str(rest)) == 0
    capsys.readouterr()
    assert await drivers("cash", "--driver", EMEKA.e164) == 0
    assert rows(capsys.readouterr().out) == {
        EMEKA.e164: (str(second_cash.amount), in_lagos(took_second_at), "no")
    }

    monkeypatch.setenv("OMNIROUTE_DRIVER_CASH_HOLD_HOURS", "8")  # a stricter depot
    assert await drivers("cash", "--driver", EMEKA.e164) == 0
    [(_, _, overdue)] = rows(capsys.readouterr().out).values()
    assert overdue == "yes"
