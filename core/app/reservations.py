"""The reservation sweeper: cancels placed orders whose unpaid hold has lapsed, releasing stock.

Each pass is one call to `OrderService.expire_reservations`, which moves each lapsed order once
in its own transaction, so several gateway replicas may sweep at the same time. An order whose
payments all failed (she declined the M-Pesa prompt and paid no other way within its window) is
cancelled as its workflow unwinds it then: `payment_failed`, not `payment_expired`.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from core.app.periodic import Periodic
from core.app.workflow_payments import charge_of
from engines.fulfilment.model import CancelReason, PaymentStatus
from engines.orders import OrderService
from engines.payments import PaymentService

log = structlog.get_logger(__name__)


class ReservationSweeper(Periodic):
    name = "reservation-sweeper"

    def __init__(
        self,
        orders: OrderService,
        payments: PaymentService | None = None,
        *,
        every_seconds: float = 30.0,
    ) -> None:
        super().__init__(every_seconds=every_seconds)
        self._orders = orders
        self._payments = payments

    async def sweep(self) -> list[str]:
        """One pass; the references of the orders that expired."""
        expired = await self._orders.expire_reservations(why=self._why)
        if expired:
            log.info("reservations.expired", orders=expired)
        return expired

    async def tick(self) -> None:
        await self.sweep()

    async def _why(self, references: list[str]) -> Mapping[str, str]:
        """The lapsed orders whose payments all failed, as the workflow's requery at the window's
        end reads them (`charge_of`): those it unwinds as `payment_failed`."""
        if self._payments is None:
            return {}
        intents = await self._payments.for_orders(references)
        failed = CancelReason.PAYMENT_FAILED.value
        return {
            reference: failed
            for reference, its in intents.items()
            if charge_of(reference, its).status is PaymentStatus.FAILED
        }
