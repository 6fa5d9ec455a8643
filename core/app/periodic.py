"""One background pass every few seconds, for the gateway's sweepers and requery loops.

A failing pass is logged and the next one runs on time: a database blip must not stop the loop
for the life of the process. Passes are idempotent by design (each sweeper moves each thing once
in its own transaction), so several gateway replicas may run the same loop.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import structlog

from core.loops import BackgroundLoop

log = structlog.get_logger(__name__)


class Periodic:
    """Subclasses name themselves and implement `tick`; `start`/`stop` run them in the app."""

    name: ClassVar[str]
    wait_first: ClassVar[bool] = False  # sleep before the first pass (nothing to do at start)

    def __init__(self, *, every_seconds: float) -> None:
        self._every = every_seconds
        self._loop = BackgroundLoop(self.name)

    async def tick(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        if self.wait_first:
            await self._loop.pause(self._every)
        while self._loop.running:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic.pass_failed", loop=self.name)
            await self._loop.pause(self._every)

    def start(self) -> None:
        self._loop.start(self.run)

    async def stop(self) -> None:
        """Lets a pass in flight finish (its transaction commits or rolls back) before stopping."""
        await self._loop.stop()
