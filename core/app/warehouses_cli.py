"""`omniroute warehouses list|locate`: where each warehouse stands, the point its region's
delivery routes start and end at (`routes plan` reads it on every plan).

`list` prints CSV `id,region,name,lat,lon` (empty when no location is recorded); `locate
WAREHOUSE --lat X --lon Y` moves it. The point is checked as a customer's is (`customers
locate`): degrees, inside the warehouse's country; otherwise one line, exit 2, nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.app.bootstrap import Services, build_services
from core.app.customer_cli import LocateError, point_in
from core.config import Settings
from core.region import region
from engines.wms import UnknownWarehouseError, Warehouse

COLUMNS = ("id", "region", "name", "lat", "lon")

T = TypeVar("T")


def run(args: argparse.Namespace) -> int:
    if args.warehouses_command == "list":
        found = asyncio.run(_with_services(lambda s: s.warehouse.warehouses()))
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(COLUMNS)
        out.writerows(_row(w) for w in found)
        return 0
    prog = "omniroute warehouses locate"
    warehouse_id = args.warehouse.strip().upper()

    async def locate(services: Services) -> Warehouse:
        known = {w.id: w for w in await services.warehouse.warehouses()}
        if warehouse_id not in known:
            raise UnknownWarehouseError(warehouse_id)
        country = region(known[warehouse_id].region).country
        lat, lon = point_in(
            country, args.lat, args.lon, whose=f"the country of {warehouse_id}'s region"
        )
        return await services.warehouse.locate(warehouse_id, lat, lon)

    try:
        moved = asyncio.run(_with_services(locate))
    except UnknownWarehouseError:
        print(f"{prog}: no warehouse {warehouse_id} (see warehouses list)", file=sys.stderr)
        return 2
    except LocateError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    print(
        f"{moved.id} ({moved.region}) stands at {moved.lat}, {moved.lon}: "
        "its region's next route plan starts there"
    )
    return 0


def _row(warehouse: Warehouse) -> tuple[str, ...]:
    def degrees(value: float | None) -> str:
        return "" if value is None else str(value)

    return (
        warehouse.id,
        warehouse.region,
        warehouse.name,
        degrees(warehouse.lat),
        degrees(warehouse.lon),
    )


async def _with_services(use: Callable[[Services], Awaitable[T]]) -> T:
    services = build_services(Settings())
    try:
        return await use(services)
    finally:
        await services.close()
