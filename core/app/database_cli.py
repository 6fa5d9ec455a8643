"""`omniroute migrate` and `omniroute seed --demo`: what `make run` does before it serves.

Apart from the gateway's module so that neither imports the server, GraphQL or Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from core.clock import SystemClock
from core.config import Settings, database_url
from core.db import Database
from core.db.migrate import upgrade


def run(args: argparse.Namespace) -> int:
    if args.command == "migrate":
        return _migrate()
    return _seed(demo=args.demo)


def _migrate() -> int:
    upgrade(database_url(Settings()))
    print("database is at the latest migration")
    return 0


def _seed(*, demo: bool) -> int:
    if not demo:
        print("omniroute: nothing to seed; pass --demo for the demo data set", file=sys.stderr)
        return 2

    # Here, not at the top: `migrate` runs before every `serve` and needs none of the engines.
    from core.app.demo import load_demo, load_distribution_demo  # noqa: PLC0415

    async def load() -> int:
        db = Database(database_url(Settings()))
        try:
            now = SystemClock().now()
            return await load_demo(db, now) + await load_distribution_demo(db, now)
        finally:
            await db.dispose()

    inserted = asyncio.run(load())
    print(f"demo data loaded ({inserted} new rows)")
    return 0
