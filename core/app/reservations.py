"""The reservation sweeper: cancels placed orders whose unpaid hold has lapsed, releasing stock.

Each pass is one call to `OrderService.expire_reservations`, which moves each lapsed order once
in its own transaction, so several gateway replicas may sweep at the same time.
"""

from __future__ import annotations

import structlog

from core.app.periodic import Periodic
from engines.orders import OrderService

log = structlog.get_logger(__name__)


class ReservationSweeper(Periodic):
    name = "reservation-sweeper"

    def __init__(self, orders: OrderService, *, every_seconds: float = 30.0) -> None:
        super().__init__(every_seconds=every_seconds)
        self._orders = orders

    async def sweep(self) -> list[str]:
        """One pass; the references of the orders that expired."""
        expired = await self._orders.expire_reservations()
        if expired:
            log.info("reservations.expired", orders=expired)
        return expired

    async def tick(self) -> None:
        await self.sweep()
