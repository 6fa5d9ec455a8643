"""A region's day is its own calendar day: at the edges (23:30 local) the UTC date is wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.app.dispatch_plan import tomorrow
from core.region import RegionCode, day_bounds, local_date


def test_half_past_eleven_in_nairobi_is_still_today_there_but_tomorrow_is_near() -> None:
    # 20:30 UTC is 23:30 in Nairobi (UTC+3) and 22:30 in Cape Town (UTC+2)
    at = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)
    assert local_date(RegionCode.NAIROBI, at) == date(2026, 3, 10)
    assert tomorrow(RegionCode.NAIROBI, at) == date(2026, 3, 11)


def test_after_local_midnight_the_region_is_a_day_ahead_of_utc() -> None:
    # 23:30 UTC on the 10th is 00:30 on the 11th in Lagos (UTC+1), 02:30 in Nairobi
    at = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert at.date() == date(2026, 3, 10)
    for region in RegionCode:
        assert local_date(region, at) == date(2026, 3, 11)
        # so "tomorrow" for an operator there is the 12th, not the UTC 11th
        assert tomorrow(region, at) == date(2026, 3, 12)


def test_a_day_runs_from_local_midnight_to_midnight_in_utc() -> None:
    start, end = day_bounds(RegionCode.LAGOS, date(2026, 3, 11))
    assert (start, end) == (
        datetime(2026, 3, 10, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 11, 23, 0, tzinfo=UTC),
    )
    start, _ = day_bounds(RegionCode.CAPE_TOWN, date(2026, 3, 11))
    assert start == datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    start, _ = day_bounds(RegionCode.NAIROBI, date(2026, 3, 11))
    assert start == datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
