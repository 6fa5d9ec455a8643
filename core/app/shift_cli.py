"""`omniroute drivers shift PHONE --from HH:MM --to HH:MM [--days mon,tue,...|daily] [--date D]`
and `omniroute drivers shift PHONE --list`: when a driver works (routes are offered only to
drivers on shift, and the day's plan counts those with a shift that day).

Times are the driver's region's (Africa/Lagos, Africa/Nairobi, Africa/Johannesburg); a shift
ending at or before it starts ends the next morning. Setting a day replaces the shifts he had
starting that day. Both print his shifts as CSV, one row each: what was set, or (`--list`) the
ones not over yet. A bad phone, an unknown driver, a shift over 14 hours or already over is
refused in one line, exit 2, nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys

from core.app.bootstrap import build_services
from core.app.cli_parser import WEEKDAYS
from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from core.region import zone
from engines.gig import InvalidWorkerError, Shift, UnknownWorkerError, Worker

COLUMNS = ("driver", "name", "region", "date", "day", "from", "to")
FLAGS = {"ends_at": "--to", "date": "--date"}  # the engine's field, as the operator typed it


def run(args: argparse.Namespace) -> int:
    prog = "omniroute drivers shift"
    setting = (args.starts, args.ends, args.days, args.date)
    if args.list and any(value is not None for value in setting):
        return _refused(prog, "--list takes no --from, --to, --days or --date")
    if not args.list and (args.starts is None or args.ends is None):
        return _refused(prog, "--from and --to are required (or --list)")
    try:
        phone = Phone.parse(args.phone)
    except InvalidPhoneError as exc:
        return _refused(prog, f"PHONE: {exc}")
    try:
        worker, shifts = asyncio.run(_shifts(phone, args))
    except UnknownWorkerError:
        return _refused(prog, f"no driver with phone {phone.e164}")
    except InvalidWorkerError as exc:
        return _refused(prog, f"{FLAGS.get(exc.field, exc.field)}: {exc.reason}")
    _print(worker, shifts)
    return 0


async def _shifts(phone: Phone, args: argparse.Namespace) -> tuple[Worker, list[Shift]]:
    services = build_services(Settings())
    try:
        if args.list:
            return await services.gig.upcoming_shifts(phone)
        return await services.gig.set_shifts(phone, args.starts, args.ends, args.date, args.days)
    finally:
        await services.close()


def _print(worker: Worker, shifts: list[Shift]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    local = zone(worker.region)
    for shift in shifts:
        starts, ends = shift.starts_at.astimezone(local), shift.ends_at.astimezone(local)
        out.writerow(
            (
                worker.phone.e164,
                worker.name,
                worker.region.value,
                starts.date().isoformat(),
                WEEKDAYS[starts.weekday()],
                f"{starts:%H:%M}",
                f"{ends:%H:%M}",
            )
        )


def _refused(prog: str, reason: str) -> int:
    print(f"{prog}: {reason}", file=sys.stderr)
    return 2
