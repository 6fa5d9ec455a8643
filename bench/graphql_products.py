"""GraphQL `products` queries per second: the gateway against a bare strawberry schema.

    python -m bench.graphql_products [--concurrency 16] [--seconds 5] [--rounds 3] [--first 20]

Both servers run in subprocesses (`--serve gateway|bare`), driven over loopback by one aiohttp
ClientSession with `--concurrency` clients posting the same query. The gateway is the product as
the tests build it (a fresh migrated SQLite file, the demo data, memory sessions, `create_app`,
anonymous, rate limits raised out of the way): its guard middleware, the depth and cost rules,
DataLoaders and the cached shelf and price book. The bare server is strawberry's own aiohttp view
over a schema of the same shape (`products(first)` -> edges -> node {sku name price}) resolving
Lagos's demo products and prices from a list in memory: the floor any strawberry server pays
(HTTP, parsing, validation, execution, JSON). Phases alternate over `--rounds` so the machine's
noise falls on both; the figures are summed over the rounds. Target: gateway >= 0.5x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import strawberry
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

from core.app.bootstrap import build_services
from core.app.demo import load_demo, rows_for
from core.app.server import create_app
from core.config import Settings
from core.db.migrate import upgrade
from core.region import RegionCode, region
from engines.catalogue.tables import products as products_table
from engines.pricing.tables import prices as prices_table

ROOT = Path(__file__).resolve().parent.parent
READY = "bench-ready"
QUERY = """query($first: Int) { products(first: $first) {
  edges { cursor node { sku name price { amount currency } } }
  pageInfo { hasNextPage endCursor } } }"""


# --- the bare schema: the same shape, from memory ---------------------------------------


@strawberry.type(name="Money")
class BareMoney:
    amount: str
    currency: str


@strawberry.type(name="Product")
class BareProduct:
    sku: str
    name: str
    price: BareMoney


@strawberry.type(name="ProductEdge")
class BareEdge:
    cursor: str
    node: BareProduct


@strawberry.type(name="PageInfo")
class BarePageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="ProductConnection")
class BareConnection:
    edges: list[BareEdge]
    page_info: BarePageInfo


def _demo_products() -> list[BareProduct]:
    rows = rows_for(region(RegionCode.LAGOS), datetime.now(UTC))
    price_of = {r["sku"]: (Decimal(r["unit_price"]), r["currency"]) for r in rows[prices_table]}
    found = []
    for r in sorted(rows[products_table], key=lambda r: (r["name"], r["sku"])):
        amount, currency = price_of[r["sku"]]
        found.append(
            BareProduct(
                sku=r["sku"],
                name=r["name"],
                price=BareMoney(amount=str(amount.quantize(Decimal("0.01"))), currency=currency),
            )
        )
    return found


PRODUCTS = _demo_products()


@strawberry.type
class BareQuery:
    @strawberry.field
    def products(self, first: int | None = None) -> BareConnection:
        page = PRODUCTS[: first or 20]
        edges = [BareEdge(cursor=p.sku, node=p) for p in page]
        return BareConnection(
            edges=edges,
            page_info=BarePageInfo(
                has_next_page=len(page) < len(PRODUCTS),
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


# --- the servers ---------------------------------------------------------------------------


async def _serve(kind: str, database_url: str) -> None:
    if kind == "bare":
        app = web.Application()
        view = GraphQLView(schema=strawberry.Schema(query=BareQuery), graphql_ide=None)
        app.router.add_route("*", "/graphql", view)
    else:
        settings = Settings(
            env="test",
            database_url=database_url,
            rate_limit_ip_burst=10**9,
            rate_limit_ip_per_second=10**9,
            _env_file=None,
        )
        services = build_services(settings)
        await load_demo(services.db, datetime.now(UTC))
        app = create_app(settings, build=lambda _s: services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"{READY} {port}", flush=True)
    await asyncio.Event().wait()


async def _start(kind: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.graphql_products",
        "--serve",
        kind,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise RuntimeError(f"the {kind} server exited")
        if line.startswith(READY):
            return process, f"http://127.0.0.1:{line.split()[1]}/graphql"


# --- the load --------------------------------------------------------------------------------


async def _phase(
    session: aiohttp.ClientSession, url: str, concurrency: int, seconds: float, first: int
) -> tuple[int, float]:
    body = {"query": QUERY, "variables": {"first": first}}
    deadline = time.perf_counter() + seconds
    done = 0

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.post(url, json=body) as response:
                data = await response.json()
                assert response.status == 200, data
                assert len(data["data"]["products"]["edges"]) == first, data
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done, time.perf_counter() - started


async def run(concurrency: int, seconds: float, rounds: int, first: int) -> None:
    servers = {kind: await _start(kind) for kind in ("bare", "gateway")}
    totals = {kind: [0, 0.0] for kind in servers}
    try:
        connector = aiohttp.TCPConnector(limit=concurrency * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _process, url in servers.values():
                await _phase(session, url, concurrency, 1.0, first)  # warm-up
            for _ in range(rounds):
                for kind, (_process, url) in servers.items():
                    done, elapsed = await _phase(session, url, concurrency, seconds, first)
                    totals[kind][0] += done
                    totals[kind][1] += elapsed
    finally:
        for process, _url in servers.values():
            process.terminate()
            await process.wait()
    rates = {kind: done / elapsed for kind, (done, elapsed) in totals.items()}
    print(f"products(first: {first}), {concurrency} clients, {rounds} x {seconds:g} s each")
    print(f"bare strawberry schema : {rates['bare']:8.0f} queries/s")
    print(f"gateway /graphql       : {rates['gateway']:8.0f} queries/s")
    print(f"ratio gateway/bare     : {rates['gateway'] / rates['bare']:8.2f}x  (target >= 0.5x)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.graphql_products")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--serve", choices=("gateway", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        directory = Path(tempfile.mkdtemp(prefix="bench-graphql-"))
        url = f"sqlite+aiosqlite:///{directory / 'omniroute.db'}"
        if args.serve == "gateway":
            upgrade(url)  # Alembic runs its own event loop: before ours starts
        asyncio.run(_serve(args.serve, url))
        return 0
    asyncio.run(run(args.concurrency, args.seconds, args.rounds, args.first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
