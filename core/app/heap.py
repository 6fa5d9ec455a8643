"""The collector leaves the start-up heap alone while the gateway serves.

A started gateway holds a large heap of long-lived objects (the engines and their caches,
SQLAlchemy's and the GraphQL schema's metadata, the modules of Temporal, OR-Tools, pydantic…).
Every full (generation 2) collection walks all of it again, and while it does the event loop
stops: on PostgreSQL + Valkey the USSD bench saw a full collection every few seconds taking
about 140 ms, so every request in flight waited that long. `gc.freeze()` once start-up is over
moves that heap to the permanent generation, which no later collection looks at, and a full
collection then walks only what serving allocated: a few milliseconds. (Start-up objects that die
later are still freed by their reference counts; only a cycle among them would stay.)
Measured by `bench/ussd_hops.py --against-unfrozen` (BENCHMARKS.md).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)


async def frozen_startup_heap(_app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: freeze once everything before it has started; thaw when stopping."""
    gc.collect()
    gc.freeze()
    log.info("heap.frozen", objects=gc.get_freeze_count())
    yield
    gc.unfreeze()


def freeze_after_startup(app: web.Application) -> web.Application:
    """`app`, its start-up heap frozen once the cleanup contexts already on it have started
    (the services, in `create_app`)."""
    app.cleanup_ctx.append(frozen_startup_heap)
    return app
