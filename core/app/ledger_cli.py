"""`omniroute ledger check|rebuild`: prove the books balance, or repair the running sums."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.clock import SystemClock
from core.config import Settings
from core.db import Database
from core.ids import RandomIds
from engines.ledger import LedgerReport, LedgerService


def add_ledger_command(commands: Any) -> None:
    ledger = commands.add_parser(
        "ledger", help="check the ledger's balances against its transfers (or rebuild them)"
    )
    ledger.add_argument(
        "action",
        choices=("check", "rebuild"),
        help="check: replay every transfer and compare (exit 1 on a mismatch); "
        "rebuild: overwrite the running balances with the replay",
    )


def run_ledger(args: argparse.Namespace) -> int:
    async def run() -> LedgerReport:
        db = Database(Settings().database_url)
        ledger = LedgerService(db, SystemClock(), RandomIds())
        try:
            if args.action == "rebuild":
                return await ledger.rebuild()
            return await ledger.check()
        finally:
            await ledger.close()
            await db.dispose()

    report = asyncio.run(run())
    print(f"{report.accounts} accounts, {report.transfers} transfers")
    for currency, (debits, credits) in sorted(report.totals.items()):
        state = "balanced" if debits == credits else "NOT BALANCED"
        print(f"{currency}: debits {debits} credits {credits} {state}")
    for m in report.mismatches:
        print(f"mismatch {m.code} ({m.problem}): stored {m.stored} replayed {m.replayed}")
    for code in report.over_limit:
        print(f"note: {code} is past its limit (lowered after use?)")
    if args.action == "rebuild":
        print(f"rebuilt: {len(report.mismatches)} accounts repaired")
        return 0
    print("ledger OK" if report.balanced else "ledger MISMATCH")
    return 0 if report.balanced else 1
