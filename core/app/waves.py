"""`omniroute waves plan FILE`: batch orders into pick waves and print the plan as JSON.

FILE says which departure each order rides (the route plan's output):
`{"orders": [{"reference": "W62ACJ", "route": "R-LAG-1", "departure": "2026-12-03T08:00:00Z"}]}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from core.app.bootstrap import build_services
from core.config import Settings
from engines.orders import UnknownOrderError
from engines.wms import Departure, MixedRegionsError, WavePlan, WavePolicy


class _Line(BaseModel):
    reference: str = Field(min_length=1, max_length=12)
    route: str = Field(min_length=1, max_length=60)
    departure: AwareDatetime


class _File(BaseModel):
    orders: list[_Line] = Field(max_length=100_000)


def plan_command(path: str, policy: WavePolicy) -> int:
    try:
        data = _File.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        print(f"omniroute waves plan: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":  # no field to name: the parser's line and column
            why = f"not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}"
        else:
            why = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        print(f"omniroute waves plan: {path}: {why}", file=sys.stderr)
        return 2
    departures: dict[str, Departure] = {}
    for n, line in enumerate(data.orders):
        reference, departure = line.reference.upper(), Departure(line.route, line.departure)
        planned = departures.setdefault(reference, departure)
        if planned != departure:
            print(
                f"omniroute waves plan: {path}: orders.{n}: order {reference} is on route "
                f"{planned.route} already; an order rides one departure",
                file=sys.stderr,
            )
            return 2
    try:
        plan = asyncio.run(_plan(departures, policy))
    except UnknownOrderError as exc:
        print(f"omniroute waves plan: no order {exc}", file=sys.stderr)
        return 2
    except MixedRegionsError as exc:
        print(f"omniroute waves plan: {path}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(plan), indent=2))
    return 0


async def _plan(departures: dict[str, Departure], policy: WavePolicy) -> WavePlan:
    services = build_services(Settings())
    try:
        return await services.warehouse.plan_waves(departures, policy)
    finally:
        await services.close()


def as_json(plan: WavePlan) -> dict[str, Any]:
    return {
        "waves": [
            {
                "number": wave.number,
                "due": _iso(wave.due),
                "routes": list(wave.routes),
                "pickers": [list(batch) for batch in wave.batches],
            }
            for wave in plan.waves
        ],
        "held": [{"reference": ref, "reason": reason.value} for ref, reason in plan.held],
    }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
