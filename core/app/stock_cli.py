"""`omniroute stock check|count`: the warehouse's bins against the catalogue's on hand.

Every movement through the WMS keeps the two equal (engines/wms/stock.py); stock loaded outside
it, or goods lost and found, make them drift. `check WAREHOUSE` lists the SKUs that differ as
CSV (`sku,on_hand,in_bins,difference`) and exits 1 when there are any, like `reconcile`.
`count WAREHOUSE BIN SKU QUANTITY` records a cycle count: the bin holds QUANTITY, and the SKU's
on hand becomes what its bins and the dock hold. A count that would leave less on hand than orders
reserved, of a SKU in a bin holding another, of a SKU the warehouse's catalogue does not have, or
of more than the bin holds, is refused with exit 2 and changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.app.bootstrap import Services, build_services
from core.config import Settings
from engines.catalogue import BelowReservedError
from engines.wms import (
    BinHoldsOtherSkuError,
    Counted,
    CountError,
    StockDrift,
    UnknownLocationError,
    UnknownWarehouseError,
    dock_id,
)

T = TypeVar("T")


def run(args: argparse.Namespace) -> int:
    warehouse = args.warehouse.strip().upper()
    prog = f"omniroute stock {args.stock_command}"
    try:
        if args.stock_command == "check":
            drift = asyncio.run(_with_services(lambda s: check(s, warehouse)))
            write_drift(warehouse, drift)
            return 1 if drift else 0
        location = bin_id(warehouse, args.bin)
        sku = args.sku.strip().upper()
        done = asyncio.run(
            _with_services(lambda s: count(s, warehouse, location, sku, args.quantity))
        )
    except UnknownWarehouseError:
        return _refused(prog, f"no warehouse {warehouse} with bins")
    except UnknownLocationError as exc:
        return _refused(prog, str(exc))
    except BinHoldsOtherSkuError as exc:
        return _refused(
            prog, f"{exc.location_id} holds {exc.held}: a bin holds one SKU; count that bin again"
        )
    except BelowReservedError as exc:
        return _refused(
            prog,
            f"{exc.sku} would have {exc.on_hand} on hand, less than the {exc.reserved} reserved "
            "for orders: count again, or cancel the orders that cannot be filled first",
        )
    except CountError as exc:
        return _refused(prog, str(exc))
    print(said(done))
    return 0


def bin_id(warehouse: str, label: str) -> str:
    """`A01-B02-L1-1` in WH-NG is bin `WH-NG:A01-B02-L1-1`; a full id is taken as it is; `dock`
    is the dock, where picked goods wait for their truck."""
    label = label.strip().upper()
    if label.rpartition(":")[2] == "DOCK":
        return dock_id(label.rpartition(":")[0] or warehouse)
    return label if ":" in label else f"{warehouse}:{label}"


async def check(services: Services, warehouse: str) -> list[StockDrift]:
    return await services.warehouse.drift(warehouse)


async def count(
    services: Services, warehouse: str, location: str, sku: str, quantity: int
) -> Counted:
    return await services.warehouse.count(warehouse, location, sku, quantity)


def write_drift(warehouse: str, drift: list[StockDrift]) -> None:
    if not drift:
        print(f"{warehouse}: the bins hold what the catalogue has on hand", file=sys.stderr)
        return
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["sku", "on_hand", "in_bins", "difference"])
    for d in drift:
        out.writerow([d.sku, d.on_hand, d.in_bins, f"{d.difference:+d}"])


def said(done: Counted) -> str:
    change = done.counted - done.recorded
    moved = "as recorded" if not change else f"{change:+d} against the record of {done.recorded}"
    return (
        f"{done.location_id}: {done.counted} x {done.sku} ({moved}); "
        f"on hand {done.on_hand}, {done.reserved} reserved"
    )


def _refused(prog: str, reason: str) -> int:
    print(f"{prog}: {reason}", file=sys.stderr)
    return 2


async def _with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    services = build_services(Settings())
    try:
        return await work(services)
    finally:
        await services.close()
