"""One background pass every few seconds, for the gateway's sweepers and requery loops.

A failing pass is logged and the next one runs on time: a database blip must not stop the loop
for the life of the process. Passes are idempotent by design (each sweeper moves each thing once
in its own transaction), so several gateway replicas may run the same loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar

import structlog

log = structlog.get_logger(__name__)


class Periodic:
    """Subclasses name themselves and implement `tick`; `start`/`stop` run them in the app."""

    name: ClassVar[str]
    wait_first: ClassVar[bool] = False  # sleep before the first pass (nothing to do at start)

    def __init__(self, *, every_seconds: float) -> None:
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        if self.wait_first:
            await asyncio.sleep(self._every)
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic.pass_failed", loop=self.name)
            await asyncio.sleep(self._every)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
