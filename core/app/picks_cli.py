"""`omniroute picks list|confirm`: warehouse staff work through the pick lists.

`list --warehouse W` prints the open pick lists' lines still to pick as CSV
(`pick_list,order,wave,line,bin,sku,quantity,picked`), oldest list first, each bin by its rack
label. `confirm PICKLIST` (the list's id, or its order's reference from the slip) records that
every line still to pick was picked: each moves from its bin to the dock, and with the last one
the order is packed (`WarehouseService.confirm_pick`). `--short SKU=QTY` says QTY of the SKU were
not found: its lines are picked that much short, and the list stays open with the order picking,
as the engine keeps a line picked in part; running `confirm` again when the rest turns up picks
it. Refused with one line and exit 2, nothing changed: an unknown warehouse or pick list, one
cancelled with its order, a short of a SKU the list does not have still to pick, or of more than
it has, or a bin holding less than its line needs (named, with the order; the lines are
confirmed all or none).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from core.app.bootstrap import Services, build_services
from core.config import Settings
from engines.wms import (
    InsufficientStockError,
    PickList,
    PickListStatus,
    UnknownPickError,
    UnknownWarehouseError,
    WarehouseError,
)

T = TypeVar("T")
HEADER = ["pick_list", "order", "wave", "line", "bin", "sku", "quantity", "picked"]


class RefusedError(Exception):
    """What the picker asked cannot be right: one line, nothing changed."""


def run(args: argparse.Namespace) -> int:
    prog = f"omniroute picks {args.picks_command}"
    try:
        if args.picks_command == "list":
            warehouse = args.warehouse.strip().upper()
            picks = asyncio.run(_with_services(lambda s: s.warehouse.open_pick_lists(warehouse)))
            write_lines(warehouse, picks)
            return 0
        before, after = asyncio.run(
            _with_services(lambda s: confirm(s, args.pick_list, _summed(args.short)))
        )
    except UnknownWarehouseError as exc:
        return _refused(prog, f"no warehouse {exc} with bins")
    except UnknownPickError:
        return _refused(prog, f"no pick list {args.pick_list} (its id, or its order's reference)")
    except (RefusedError, WarehouseError) as exc:
        return _refused(prog, str(exc))
    print(said(before, after))
    return 0


async def confirm(services: Services, key: str, short: dict[str, int]) -> tuple[PickList, PickList]:
    """Pick every line still to pick, each SKU in `short` that many fewer (from its last lines
    first); the pick list before and after."""
    wms = services.warehouse
    pick = await wms.find_pick_list(key)
    if pick.status is PickListStatus.CANCELLED:
        raise RefusedError(
            f"pick list of order {pick.order_reference} was cancelled with its order: put what"
            " was taken for it back (it is no longer wanted)"
        )
    remaining: dict[str, int] = {}
    for line in pick.lines:
        remaining[line.sku] = remaining.get(line.sku, 0) + line.remaining
    for sku, missing in short.items():
        if not remaining.get(sku):
            raise RefusedError(
                f"order {pick.order_reference}'s pick list has no {sku} still to pick: check the"
                " label"
            )
        if missing > remaining[sku]:
            raise RefusedError(
                f"{missing} x {sku} short, but order {pick.order_reference}'s pick list has only"
                f" {remaining[sku]} still to pick"
            )
    left = dict(short)
    taken: dict[int, int] = {}
    for line in reversed(pick.lines):
        cut = min(left.get(line.sku, 0), line.remaining)
        left[line.sku] = left.get(line.sku, 0) - cut
        if take := line.remaining - cut:
            taken[line.position] = take
    if taken:
        try:
            await wms.confirm_picks(pick.id, taken)  # all or nothing: a bin short refuses them all
        except InsufficientStockError as exc:
            where = f"bin {_label(pick, exc.location_id)}" if exc.location_id else "its bin"
            raise RefusedError(
                f"order {pick.order_reference}: {where} holds {exc.available} x {exc.sku},"
                f" {exc.wanted} to pick; nothing confirmed"
            ) from exc
    return pick, await wms.get_pick_list(pick.id)


def said(before: PickList, after: PickList) -> str:
    who = f"order {after.order_reference}"
    if before.status is PickListStatus.PICKED:
        return f"{who}: picked already, nothing changed"
    if after.status is PickListStatus.PICKED:
        return f"{who}: picked, packed and on the dock for its truck"
    missing = ", ".join(
        f"{line.sku} {line.remaining} of {line.quantity} still to pick from "
        f"{_label(after, line.location_id)}"
        for line in after.lines
        if line.remaining
    )
    return (
        f"{who}: picked short ({missing}); the pick list stays open and the order picking:"
        " confirm again when the rest is found, or cancel the order"
    )


def write_lines(warehouse: str, picks: Sequence[PickList]) -> None:
    if not picks:
        print(f"{warehouse}: no pick lists to pick", file=sys.stderr)
        return
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(HEADER)
    for pick in picks:
        for line in pick.lines:
            if line.remaining:
                out.writerow(
                    [
                        pick.id,
                        pick.order_reference,
                        pick.wave or "",
                        line.position,
                        _label(pick, line.location_id),
                        line.sku,
                        line.quantity,
                        line.picked,
                    ]
                )


def _label(pick: PickList, location_id: str) -> str:
    """The rack label (`A01-B02-L1-1`), as `stock count` takes it."""
    return location_id.removeprefix(f"{pick.warehouse_id}:")


def _summed(shorts: Sequence[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for sku, quantity in shorts:
        total[sku] = total.get(sku, 0) + quantity
    return total


def _refused(prog: str, reason: str) -> int:
    print(f"{prog}: {reason}", file=sys.stderr)
    return 2


async def _with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    services = build_services(Settings())
    try:
        return await work(services)
    finally:
        await services.close()
