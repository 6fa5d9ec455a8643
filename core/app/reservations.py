"""The reservation sweeper: cancels placed orders whose unpaid hold has lapsed, releasing stock.

Each pass is one call to `OrderService.expire_reservations`, which moves each lapsed order once
in its own transaction, so several gateway replicas may sweep at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from engines.orders import OrderService

log = structlog.get_logger(__name__)


class ReservationSweeper:
    def __init__(self, orders: OrderService, *, every_seconds: float = 30.0) -> None:
        self._orders = orders
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> list[str]:
        """One pass; the references of the orders that expired."""
        expired = await self._orders.expire_reservations()
        if expired:
            log.info("reservations.expired", orders=expired)
        return expired

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reservations.sweep_failed")
            await asyncio.sleep(self._every)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="reservation-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
