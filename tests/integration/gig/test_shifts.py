"""An operator sets a driver's shifts in his region's time (`omniroute drivers shift`): a day,
or some weekdays of the next four weeks, a night shift ending the next morning; a day set again
replaces that day's shift. Routes go only to drivers on shift, so this is when he is offered
work. The fixture's clock starts on Monday 5 January 2026 at 09:00 UTC (10:00 in Lagos)."""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.app.bootstrap import Services
from core.app.cli import main
from core.app.cli_parser import WEEKDAYS
from core.clock import SteppedClock, SystemClock
from core.phone import Phone
from core.region import RegionCode, local_date
from engines.gig import InvalidWorkerError, UnknownWorkerError
from tests.support.gig import EMEKA, driver

MON, WED = 0, 2


def advance_to(services: Services, at: datetime) -> None:
    assert isinstance(services.clock, SteppedClock)
    services.clock.advance((at - services.clock.now()).total_seconds())


async def test_an_operator_puts_a_driver_on_night_shifts_in_his_regions_time(
    services: Services,
) -> None:
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")  # on shift now, until 19:00 UTC

    _worker, night = await gig.set_shifts(EMEKA, time(22), time(6), weekdays=frozenset({MON, WED}))

    # Mondays and Wednesdays of the four weeks from today, 22:00-06:00 in Lagos (21:00 UTC)
    assert [(s.starts_at, s.ends_at - s.starts_at) for s in night] == [
        (datetime(2026, 1, day, 21, tzinfo=UTC), timedelta(hours=8))
        for day in (5, 7, 12, 14, 19, 21, 26, 28)
    ]
    _worker, upcoming = await gig.upcoming_shifts(EMEKA)
    await gig.set_shifts(EMEKA, time(22), time(6), weekdays=frozenset({MON, WED}))
    assert [(s.starts_at, s.ends_at) for s in (await gig.upcoming_shifts(EMEKA))[1]] == [
        (s.starts_at, s.ends_at) for s in upcoming
    ]  # the same again changes nothing
    # today's daytime shift was replaced: he is off now, and on at 22:00 tonight
    off = await gig.off_shift(emeka.id)
    assert off is not None
    assert off.next_start == datetime(2026, 1, 5, 21, tzinfo=UTC)
    advance_to(services, datetime(2026, 1, 6, 4, 30, tzinfo=UTC))  # 05:30 Tuesday in Lagos
    assert await gig.off_shift(emeka.id) is None
    advance_to(services, datetime(2026, 1, 6, 11, tzinfo=UTC))  # noon on Tuesday: off
    assert await gig.off_shift(emeka.id) is not None

    # a day set apart replaces that day's shift only
    _worker, [day] = await gig.set_shifts(EMEKA, time(6), time(14), first=date(2026, 1, 7))
    _worker, upcoming = await gig.upcoming_shifts(EMEKA)
    assert [(s.starts_at.day, s.starts_at.hour) for s in upcoming] == [
        (7, 5),
        (12, 21),
        (14, 21),
        (19, 21),
        (21, 21),
        (26, 21),
        (28, 21),
    ]
    assert day.ends_at == datetime(2026, 1, 7, 13, tzinfo=UTC)

    # refused, nothing changed: over 14 hours, a day over, a phone that is no driver's
    with pytest.raises(InvalidWorkerError, match="at most 14 hours"):
        await gig.set_shifts(EMEKA, time(6), time(21), first=date(2026, 1, 8))
    with pytest.raises(InvalidWorkerError, match="over already"):
        await gig.set_shifts(EMEKA, time(6), time(10), first=date(2026, 1, 6))
    with pytest.raises(UnknownWorkerError):
        await gig.set_shifts(Phone("+2348035559999"), time(6), time(10))
    assert (await gig.upcoming_shifts(EMEKA))[1] == upcoming


async def test_drivers_shift_sets_and_lists_his_shifts_as_csv_in_his_time(
    services: Services, any_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`omniroute drivers shift` as an operator runs it, on the gateway's database (and the
    real clock: the day after today in Lagos)."""
    await driver(services, EMEKA, "Emeka")
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", any_database_url)
    tomorrow = local_date(RegionCode.LAGOS, SystemClock().now()) + timedelta(days=1)

    def shift(*argv: str) -> tuple[int, list[str]]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["drivers", "shift", EMEKA.e164, *argv])
        return code, out.getvalue().splitlines()

    row = f"{EMEKA.e164},Emeka,lagos,{tomorrow},{WEEKDAYS[tomorrow.weekday()]},22:00,06:00"
    header = "driver,name,region,date,day,from,to"
    set_it = await asyncio.to_thread(
        shift, "--from", "22:00", "--to", "6:00", "--date", str(tomorrow)
    )
    assert set_it == (0, [header, row])
    assert await asyncio.to_thread(shift, "--list") == (0, [header, row])
