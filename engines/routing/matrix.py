"""Where distances and driving times come from: a port and its built-in providers.

`GreatCircleMatrix` needs nothing outside the process (haversine distance times a road factor,
at a mean speed); `EuclideanMatrix` is the plane geometry of benchmark instances; an OSRM-style
`/table` service (`engines.routing.osrm`) gives real road distances when one is available.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

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
        distances = tuple(
            tuple(haversine_km(a, b) * self.road_factor for b in points) for a in points
        )
        minutes_per_km = 60.0 / self.speed_kmh
        durations = tuple(tuple(d * minutes_per_km for d in row) for row in distances)
        return TravelMatrix(distances, durations)

    async def table(self, points: Sequence[Point]) -> TravelMatrix:
        return self.compute(points)


class EuclideanMatrix:
    """Plane distances, unrounded, and travel time equal to distance (Solomon's convention)."""

    def compute(self, points: Sequence[Point]) -> TravelMatrix:
        distances = tuple(tuple(math.hypot(a.x - b.x, a.y - b.y) for b in points) for a in points)
        return TravelMatrix(distances, distances)

    async def table(self, points: Sequence[Point]) -> TravelMatrix:
        return self.compute(points)
