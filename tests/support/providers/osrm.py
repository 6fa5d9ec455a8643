"""A local OSRM table service, speaking OSRM's HTTP API v1 as `osrm-routed` does.

`GET /table/v1/{profile}/{lon},{lat};{lon},{lat}...?annotations=distance,duration` answers
`200 {"code": "Ok", "durations": [[seconds]], "distances": [[metres]], "sources": [...],
"destinations": [...]}` (docs: project-osrm.org/docs/v5.24.0/api/#table-service); a waypoint
name is the street snapped to. Unroutable pairs are `null`. A malformed coordinate list gets
`400 {"code": "InvalidQuery", "message": "Query string malformed close to position …"}`; like
`osrm-routed`, which serves one profile, any profile name is answered. The "road network"
here is the great circle times 1.4 driven at 36 km/h (10 m/s); points west of
`island_west_of` longitude are on an island no road reaches.
"""

from __future__ import annotations

import math
import re

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

ROAD_FACTOR = 1.4
SPEED_M_S = 10.0
_COORDINATE = re.compile(r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$")


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


class FakeOsrm(LoopbackFake):
    def __init__(self, island_west_of: float = -180.0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.island_west_of = island_west_of
        self.fail_next = 0  # answer 503 to the next n requests (a restarting server)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), b"")
        )
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503, text="Service Unavailable")
        match = re.fullmatch(r"/table/v1/([^/]+)/(.+)", request.path)
        if request.method != "GET" or match is None:
            return web.json_response(
                {
                    "code": "InvalidUrl",
                    "message": f'URL string malformed close to position 1: "{request.path}"',
                },
                status=400,
            )
        raw = match.group(2).split(";")
        for position, text in enumerate(raw):
            if not _COORDINATE.match(text):
                return web.json_response(
                    {
                        "code": "InvalidQuery",
                        "message": f"Query string malformed close to position {position}",
                    },
                    status=400,
                )
        points = [(float(t.split(",")[0]), float(t.split(",")[1])) for t in raw]
        annotations = request.query.get("annotations", "duration").split(",")
        body: dict[str, object] = {
            "code": "Ok",
            "sources": [{"location": list(p), "name": "", "distance": 0} for p in points],
            "destinations": [{"location": list(p), "name": "", "distance": 0} for p in points],
        }
        metres = [[self._road_m(a, b) for b in points] for a in points]
        if "distance" in annotations:
            body["distances"] = [[None if m is None else round(m, 1) for m in r] for r in metres]
        if "duration" in annotations:
            body["durations"] = [
                [None if m is None else round(m / SPEED_M_S, 1) for m in r] for r in metres
            ]
        return web.json_response(body)

    def _road_m(self, a: tuple[float, float], b: tuple[float, float]) -> float | None:
        if a == b:
            return 0.0
        if (a[0] < self.island_west_of) != (b[0] < self.island_west_of):
            return None
        return _haversine_m(a, b) * ROAD_FACTOR
