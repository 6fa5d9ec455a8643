"""Road distances and times from an OSRM-style table service.

Speaks OSRM's HTTP API v1 (`GET {base}/table/v1/{profile}/{lon},{lat};…?annotations=
distance,duration`), which answers `{"code": "Ok", "distances": [[metres]], "durations":
[[seconds]]}`; also served by Valhalla's OSRM-compatible mode and hosted OSRM. Unroutable pairs
come back as null and are kept unreachable rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp

from engines.routing.model import Point, RoutingError, TravelMatrix

UNREACHABLE = 1e9  # km / minutes: never worth it, never crashes the solver


class OsrmError(RoutingError):
    """The table service refused or failed the request."""


class OsrmTableMatrix:
    def __init__(
        self,
        base_url: str,
        profile: str = "driving",
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def url(self, points: Sequence[Point]) -> str:
        coordinates = ";".join(f"{p.x:.6f},{p.y:.6f}" for p in points)
        return f"{self.base_url}/table/v1/{self.profile}/{coordinates}"

    async def table(self, points: Sequence[Point]) -> TravelMatrix:
        if not points:
            return TravelMatrix((), ())
        params = {"annotations": "distance,duration"}
        if self._session is not None:
            body = await self._get(self._session, points, params)
        else:
            async with aiohttp.ClientSession() as session:
                body = await self._get(session, points, params)
        return self._parse(body, len(points))

    async def _get(
        self, session: aiohttp.ClientSession, points: Sequence[Point], params: dict[str, str]
    ) -> Any:
        try:
            async with session.get(self.url(points), params=params, timeout=self._timeout) as r:
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OsrmError(f"table service unavailable: {exc}") from exc
        if not isinstance(body, dict) or body.get("code") != "Ok":
            code = body.get("code") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            raise OsrmError(f"table service answered {code}: {message}")
        return body

    @staticmethod
    def _parse(body: dict[str, Any], n: int) -> TravelMatrix:
        def rows(key: str, scale: float) -> tuple[tuple[float, ...], ...]:
            raw = body.get(key)
            if not isinstance(raw, list) or len(raw) != n:
                raise OsrmError(f"table service returned no {n}x{n} {key}")
            out = []
            for row in raw:
                if not isinstance(row, list) or len(row) != n:
                    raise OsrmError(f"table service returned a ragged {key} row")
                out.append(tuple(UNREACHABLE if v is None else float(v) / scale for v in row))
            return tuple(out)

        return TravelMatrix(rows("distances", 1000.0), rows("durations", 60.0))
