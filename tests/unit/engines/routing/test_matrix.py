"""Distances and times from the built-in providers and from an OSRM table service."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from engines.routing import (
    EuclideanMatrix,
    GreatCircleMatrix,
    OsrmError,
    OsrmTableMatrix,
    Point,
    RoutingError,
)
from tests.support.providers.osrm import FakeOsrm

LAGOS = Point(3.3792, 6.5244)  # longitude, latitude
IKEJA = Point(3.3515, 6.6018)
LEKKI = Point(3.4746, 6.4474)


@pytest.fixture
async def osrm() -> AsyncIterator[FakeOsrm]:
    fake = FakeOsrm(island_west_of=3.0)
    await fake.start()
    yield fake
    await fake.close()


async def test_great_circle_distance_matches_a_known_city_pair() -> None:
    paris, london = Point(2.3522, 48.8566), Point(-0.1276, 51.5072)
    matrix = await GreatCircleMatrix(road_factor=1.0, speed_kmh=60).table([paris, london])
    assert matrix.distances[0][1] == pytest.approx(343.5, abs=1.0)
    assert matrix.durations[0][1] == pytest.approx(matrix.distances[0][1])  # 1 km/min
    assert matrix.distances[0][0] == 0


def test_road_factor_and_speed_stretch_distance_and_time() -> None:
    straight = GreatCircleMatrix(road_factor=1.0, speed_kmh=30).compute([LAGOS, IKEJA])
    road = GreatCircleMatrix(road_factor=1.3, speed_kmh=30).compute([LAGOS, IKEJA])
    assert road.distances[0][1] == pytest.approx(1.3 * straight.distances[0][1])
    assert road.durations[0][1] == pytest.approx(road.distances[0][1] * 2)  # 30 km/h


def test_a_road_factor_below_one_is_refused() -> None:
    with pytest.raises(RoutingError):
        GreatCircleMatrix(road_factor=0.9)


def test_euclidean_matrix_is_unrounded_and_time_equals_distance() -> None:
    matrix = EuclideanMatrix().compute([Point(0, 0), Point(1, 1)])
    assert matrix.distances[0][1] == math.sqrt(2)
    assert matrix.durations == matrix.distances


async def test_osrm_table_gives_road_kilometres_and_minutes(osrm: FakeOsrm) -> None:
    provider = OsrmTableMatrix(osrm.url, profile="car")
    matrix = await provider.table([LAGOS, IKEJA, LEKKI])
    (request,) = osrm.requests
    assert request.path.startswith("/table/v1/car/3.379200,6.524400;3.351500,6.601800;")
    assert "annotations=distance,duration" in request.path.replace("%2C", ",")
    crow = GreatCircleMatrix(road_factor=1.0).compute([LAGOS, IKEJA]).distances[0][1]
    assert matrix.distances[0][1] == pytest.approx(1.4 * crow, rel=1e-3)
    assert matrix.durations[0][1] == pytest.approx(matrix.distances[0][1] / 0.6, rel=1e-3)


async def test_unroutable_pairs_stay_unreachable_instead_of_guessed(osrm: FakeOsrm) -> None:
    island = Point(2.5, 6.4)
    matrix = await OsrmTableMatrix(osrm.url).table([LAGOS, island])
    assert matrix.distances[0][1] >= 1e9
    assert matrix.durations[1][0] >= 1e9


async def test_a_refused_query_is_an_osrm_error_with_the_reason(osrm: FakeOsrm) -> None:
    with pytest.raises(OsrmError, match="InvalidQuery"):
        await OsrmTableMatrix(osrm.url).table([Point(math.nan, 6.5), LAGOS])


async def test_an_unavailable_service_is_an_osrm_error(osrm: FakeOsrm) -> None:
    osrm.fail_next = 1
    with pytest.raises(OsrmError):
        await OsrmTableMatrix(osrm.url).table([LAGOS, IKEJA])
