"""`omniroute drivers cash [--driver PHONE] [--region R]` and `omniroute drivers cash-in PHONE
AMOUNT [--key KEY]`: the cash drivers took at pay-on-delivery doors, and its hand-over at the
depot (core.app.cash.DriverCash).

`cash` prints CSV, one row per driver: what he holds, a decimal in his region's currency, since
when (the oldest cash he still holds, in his region's time) and whether that is overdue (held
longer than `OMNIROUTE_DRIVER_CASH_HOLD_HOURS`), so operators know whom to chase.
`cash-in` says in one line what was handed in and what is still held; run again with the same
`--key` (the hand-over slip's number) it records nothing twice. More than he holds, an amount
not in whole cash units (NGN 1, KES 1, ZAR 0.10), an unknown driver or a bad phone is refused in
one line, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from datetime import timedelta
from decimal import Decimal

from core.app.bootstrap import build_services
from core.app.cash import CashHandOverError, CashHeld, DriverCash, HandedIn
from core.config import Settings
from core.phone import InvalidPhoneError, Phone
from core.region import RegionCode, zone
from engines.gig import UnknownWorkerError

COLUMNS = ("driver", "name", "region", "cash", "currency", "held_since", "overdue")


def run(args: argparse.Namespace) -> int:
    prog = f"omniroute drivers {args.drivers_command}"
    raw = args.driver if args.drivers_command == "cash" else args.phone
    flag = "--driver" if args.drivers_command == "cash" else "PHONE"
    phone = None
    if raw is not None:
        try:
            phone = Phone.parse(raw)
        except InvalidPhoneError as exc:
            return _refused(prog, f"{flag}: {exc}")
    try:
        if args.drivers_command == "cash":
            region = RegionCode(args.region) if args.region else None
            _print_held(asyncio.run(_held(region, phone)))
            return 0
        assert phone is not None
        print(said(asyncio.run(_hand_in(phone, args.amount, args.key))))
    except UnknownWorkerError:
        where = f" in {args.region}" if getattr(args, "region", None) else ""
        return _refused(prog, f"no driver with phone {raw}{where}")
    except CashHandOverError as exc:
        return _refused(prog, str(exc))
    return 0


def said(done: HandedIn) -> str:
    driver = done.driver
    if done.already:
        return (
            f"hand-over {done.key} was already recorded ({done.amount.format()} from"
            f" {driver.phone.e164}): nothing done"
        )
    return (
        f"{driver.name} ({driver.phone.e164}) handed in {done.amount.format()} at the"
        f" {done.depot} depot: still held {done.left.format()}"
    )


def _print_held(rows: list[CashHeld]) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    for row in rows:
        driver = row.driver
        out.writerow(
            (
                driver.phone.e164,
                driver.name,
                driver.region.value,
                row.cash.amount,
                row.cash.currency,
                "" if row.held_since is None else _local(row),
                "yes" if row.overdue else "no",
            )
        )


def _local(row: CashHeld) -> str:
    assert row.held_since is not None
    at = row.held_since.astimezone(zone(row.driver.region)).replace(microsecond=0)
    return at.isoformat()


async def _held(region: RegionCode | None, phone: Phone | None) -> list[CashHeld]:
    settings = Settings()
    services = build_services(settings)
    try:
        assert services.money is not None
        hold = timedelta(hours=settings.driver_cash_hold_hours)
        return await DriverCash(services.money.books, services.gig, services.clock, hold).held(
            region=region, driver=phone
        )
    finally:
        await services.close()


async def _hand_in(phone: Phone, amount: Decimal, key: str | None) -> HandedIn:
    services = build_services(Settings())
    try:
        assert services.money is not None
        cash = DriverCash(services.money.books, services.gig, services.clock)
        return await cash.hand_in(phone, amount, key)
    finally:
        await services.close()


def _refused(prog: str, reason: str) -> int:
    print(f"{prog}: {reason}", file=sys.stderr)
    return 2
