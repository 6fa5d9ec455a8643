"""Payment webhooks applied per second through POST /webhooks/paystack, first deliveries and
duplicates, with concurrent senders.

    python -m bench.payments [--intents 400] [--concurrency 16] [--database-url URL]

Builds the gateway as the tests do (a fresh migrated SQLite file unless `--database-url` names
another migrated database), with its Paystack rail pointed at the local fake API from
tests/support/providers/paystack.py. It first opens `--intents` USSD-code charges (each a real
`POST /charge` to the fake), then posts each one's signed `charge.success` webhook once (every
one settles an intent, marks nothing else, and writes its events), then all of them again (each a
duplicate the gateway must recognise and answer without effect). Served and loaded in one process
on loopback, so the figures include the load generator's share of the one interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import aiohttp
import structlog
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from core.app.bootstrap import build_services
from core.app.server import create_app
from core.config import Settings
from core.db.migrate import upgrade_async
from core.money import Money
from core.phone import Phone
from engines.payments import CreatePayment, IntentStatus, Method
from tests.support.providers.paystack import SECRET_KEY, FakePaystack


async def post_all(
    url: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200, await response.text()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
    return time.perf_counter() - began, latencies


def report(label: str, count: int, elapsed: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label:<22} {count / elapsed:8.1f}/s   p50 {statistics.median(ordered) * 1000:6.1f} ms"
        f"   p99 {p99 * 1000:6.1f} ms"
    )


async def run(intents: int, concurrency: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if database_url is None:
            await upgrade_async(url)
        fake = FakePaystack()
        await fake.start()
        settings = Settings(
            _env_file=None,
            env="test",
            database_url=url,
            paystack_base_url=fake.url,
            paystack_secret_key=SecretStr(SECRET_KEY),
        )
        services = build_services(settings)
        server = TestServer(create_app(settings, build=lambda _s: services), host="127.0.0.1")
        await server.start_server()
        try:
            assert services.payments is not None
            opened = [
                await services.payments.pay(
                    CreatePayment(
                        idempotency_key=f"bench-{n}",
                        method=Method.PAYSTACK,
                        amount=Money(Decimal("2500.00"), "NGN"),
                        customer=Phone("+2348030000001"),
                    )
                )
                for n in range(intents)
            ]
            bodies = [fake.customer_dials(i.reference) for i in opened]
            target = str(server.make_url("/webhooks/paystack"))
            print(f"{intents} intents, {concurrency} concurrent senders, {url.split(':')[0]}")
            elapsed, latencies = await post_all(target, bodies, concurrency)
            report("first deliveries", len(bodies), elapsed, latencies)
            elapsed, latencies = await post_all(target, bodies, concurrency)
            report("duplicates", len(bodies), elapsed, latencies)
            settled = [await services.payments.get(i.id) for i in opened]
            assert all(i.status is IntentStatus.SUCCEEDED for i in settled)
        finally:
            await server.close()
            await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intents", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="an already migrated database")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(run(args.intents, args.concurrency, args.database_url))


if __name__ == "__main__":
    main()
