"""Where distances and driving times come from: a port and its built-in providers.

`GreatCircleMatrix` needs nothing outside the process (haversine distance times a road factor,
at a mean speed); `EuclideanMatrix` is the plane geometry of benchmark instances; an OSRM-style
`/table` service (`engines.routing.osrm`) gives real road distances when one is available.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from engines.routing.model import Point, RoutingError, TravelMatrix

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


class MatrixProvider(Protocol):
    """Distances (km) and durations (minutes) between points, row = from."""

    async def table(self, points: Sequence[Point]) -> TravelMatrix: ...


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two (longitude, latitude) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class GreatCircleMatrix:
    """Haversine times `road_factor` (roads are not straight; 1.3 is typical of African cities),
    driven at `speed_kmh`."""

    def __init__(self, road_factor: float = 1.3, speed_kmh: float = 25.0) -> None:
        if road_factor < 1 or speed_kmh <= 0:
            raise RoutingError("road factor must be >= 1 and speed > 0")
        self.road_factor = road_factor
        self.speed_kmh = speed_kmh

    def compute(self, points: Sequence[Point]) -> TravelMatrix:
        # Vectorised: a 1,000-stop day is a million pairs.
        lon = np.radians([p.x for p in points])
        lat = np.radians([p.y for p in points])
        h = (
            np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
            + np.cos(lat[:, None])
            * np.cos(lat[None, :])
            * np.sin((lon[None, :] - lon[:, None]) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0))) * self.road_factor
        minutes = km * (60.0 / self.speed_kmh)
        return TravelMatrix(_rows(km), _rows(minutes))

    async def table(self, points: Sequence[Point]) -> TravelMatrix:
        return self.compute(points)


class EuclideanMatrix:
    """Plane distances, unrounded, and travel time equal to distance (Solomon's convention)."""

    def compute(self, points: Sequence[Point]) -> TravelMatrix:
        x = np.array([p.x for p in points], dtype=float)
        y = np.array([p.y for p in points], dtype=float)
        distances = _rows(np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]))
        return TravelMatrix(distances, distances)

    async def table(self, points: Sequence[Point]) -> TravelMatrix:
        return self.compute(points)


def _rows(array: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(map(tuple, array.tolist()))
