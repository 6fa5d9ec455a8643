"""The dispatcher loop: every so often, lapsed offers are closed and open routes re-offered.

Drivers' answers re-offer at once (a decline allocates again), and an idle driver calling in
pulls work; this loop covers the silent case, an offer nobody answers.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from engines.gig import GigService

log = structlog.get_logger(__name__)


class OfferSweeper:
    def __init__(self, gig: GigService, *, every_seconds: float) -> None:
        self._gig = gig
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                offers = await self._gig.allocate()
                if offers:
                    log.info("gig.offered", count=len(offers))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gig.sweep_failed")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="offer-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
