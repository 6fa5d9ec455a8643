"""The edges' way in: start an order's workflow, push signals, ask where an order is.

Workflow ids are the order reference (`order-W62ACJ`, `payment-W62ACJ`), so starting twice is
harmless (the second start finds the first) and anyone holding a reference can signal it.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from engines.fulfilment.model import (
    CancelReason,
    DeliveryConfirmed,
    DriverAssigned,
    FulfilmentInput,
    FulfilmentResult,
    FulfilmentStatus,
    PaymentNotice,
    RoutePlanned,
    SettlementInput,
    Stage,
)
from engines.fulfilment.workflows import (
    TASK_QUEUE,
    OrderFulfilmentWorkflow,
    SettlementWorkflow,
    order_workflow_id,
)

SETTLEMENT_SCHEDULE_ID = "daily-settlement"
# Where an order's story ended: the run that got there said so itself.
ENDED = frozenset({Stage.SETTLED, Stage.CANCELLED, Stage.RETURNED})
# A run closed by these never moves its order again, whatever stage it last reached.
BROKEN = frozenset(
    {
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
    }
)


class OrderNotWaitingError(Exception):
    """No running workflow for the order: it finished, or was never started."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


SETTLEMENT_CRON = "0 1 * * *"  # 01:00 UTC: yesterday's deliveries are settled


class TemporalFulfilment:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def start_order(
        self, reference: str, *, payment_window_seconds: int | None = None
    ) -> bool:
        """Start the order's fulfilment; False when it was already started (a redelivery)."""
        start = FulfilmentInput(reference.upper())
        if payment_window_seconds is not None:
            start = FulfilmentInput(reference.upper(), payment_window_seconds)
        try:
            await self.client.start_workflow(
                OrderFulfilmentWorkflow.run,
                start,
                id=order_workflow_id(reference),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    def order(self, reference: str) -> WorkflowHandle[OrderFulfilmentWorkflow, FulfilmentResult]:
        return self.client.get_workflow_handle_for(
            OrderFulfilmentWorkflow.run, order_workflow_id(reference)
        )

    async def status(
        self, reference: str, *, rpc_timeout: timedelta | None = None
    ) -> FulfilmentStatus:
        """Where the order's workflow says it is; FAILED when its run failed, timed out or was
        terminated before it ended the order (its last stage, `awaiting_payment` say, would
        otherwise stand for ever while nothing carries the order on)."""
        handle = self.order(reference)
        status = await handle.query(OrderFulfilmentWorkflow.status, rpc_timeout=rpc_timeout)
        if status.stage in ENDED:
            return status  # an order it unwound on failing is cancelled (reason "failed")
        run = await handle.describe(rpc_timeout=rpc_timeout)
        if run.status in BROKEN:
            return dataclasses.replace(status, stage=Stage.FAILED)
        return status

    async def payment_received(self, reference: str, notice: PaymentNotice) -> None:
        """Raises OrderNotWaitingError when the order's story is over (expired, cancelled): the
        webhook's edge must then refund the money itself."""
        try:
            await self.order(reference).signal(OrderFulfilmentWorkflow.payment_received, notice)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise OrderNotWaitingError(reference) from error
            raise

    async def wave_picked(self, reference: str) -> None:
        await self.order(reference).signal(OrderFulfilmentWorkflow.wave_picked)

    async def route_planned(self, reference: str, route: RoutePlanned) -> None:
        await self.order(reference).signal(OrderFulfilmentWorkflow.route_planned, route)

    async def driver_assigned(self, reference: str, driver: DriverAssigned) -> None:
        await self.order(reference).signal(OrderFulfilmentWorkflow.driver_assigned, driver)

    async def driver_arrived(self, reference: str) -> None:
        await self.order(reference).signal(OrderFulfilmentWorkflow.driver_arrived)

    async def delivery_confirmed(self, reference: str, confirmation: DeliveryConfirmed) -> None:
        await self.order(reference).signal(OrderFulfilmentWorkflow.delivery_confirmed, confirmation)

    async def cancel(self, reference: str, reason: str = CancelReason.CUSTOMER.value) -> None:
        """Cancel the order for `reason` (a `CancelReason` value; the customer asked, unless
        said otherwise), which the customer's notice names."""
        await self.order(reference).signal(OrderFulfilmentWorkflow.cancel, reason)

    async def status_changed(self, reference: str, status: str, reason: str | None = None) -> None:
        await self.order(reference).signal(
            OrderFulfilmentWorkflow.status_changed, args=[status, reason]
        )

    @property
    def settlement_schedule_id(self) -> str:
        """`daily-settlement`; another task queue (a second deployment) gets its own."""
        if self.task_queue == TASK_QUEUE:
            return SETTLEMENT_SCHEDULE_ID
        return f"{SETTLEMENT_SCHEDULE_ID}-{self.task_queue}"

    async def ensure_settlement_schedule(self) -> bool:
        """Create the nightly settlement schedule; False when it exists already."""
        try:
            await self.client.create_schedule(
                self.settlement_schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(
                        SettlementWorkflow.run,
                        SettlementInput(),
                        id=self.settlement_schedule_id,
                        task_queue=self.task_queue,
                    ),
                    spec=ScheduleSpec(cron_expressions=[SETTLEMENT_CRON]),
                    # A night the cluster was down is caught up the next morning, once.
                    policy=SchedulePolicy(
                        overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)
                    ),
                ),
            )
        except ScheduleAlreadyRunningError:
            return False
        return True
