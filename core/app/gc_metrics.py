"""How long the garbage collector stops the event loop, for /metrics.

A collection runs on the loop's thread: while it walks the heap no request moves. Full
collections over the start-up heap once took ~140 ms each (see core/app/heap.py); this histogram
lets operators see such pauses, and alert on them, per generation.
"""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram

PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)


class GcPauses:
    """Times each collection through `gc.callbacks` while the app runs."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pauses = Histogram(
            "omniroute_gc_pause_seconds",
            "Time the garbage collector held the event loop, by generation collected",
            ["generation"],
            buckets=PAUSE_BUCKETS,
            registry=registry,
        )
        self._by_generation = [self.pauses.labels(str(g)) for g in range(3)]
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._by_generation[info["generation"]].observe(time.perf_counter() - self._started)

    async def watching(self, _app: web.Application) -> AsyncIterator[None]:
        """A cleanup context: timed while the app runs (callbacks are process-wide)."""
        gc.callbacks.append(self._callback)
        yield
        gc.callbacks.remove(self._callback)
