"""The order workflow's warehouse, route, driver and credit steps, answered by the engines.

Asking: `release_to_wave` and `request_route` record a dispatch request (the day planner,
`omniroute routes plan`, routes and waves only orders released this way); `request_driver`
records one and runs the gig allocation at once, so the order's route is offered to the best
free driver now rather than at the dispatcher's next sweep. Each request is written in the
transaction that records the activity's effect, so a retry does nothing twice.

Answering: the gig platform's events become the workflow's signals (`GigSignals`) — a task
planned is `route_planned`, a driver accepting (GraphQL `acceptTask`, the IVR's 1) is
`driver_assigned` with that driver's id, arriving is `driver_arrived`, the right code at the
door (IVR or GraphQL `confirmDelivery`) is `delivery_confirmed`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError, RPCStatusCode

from core.bus import EventBus, EventEnvelope
from core.clock import Clock
from core.phone import Phone
from engines.credit import CreditRefusedError, CreditService
from engines.fulfilment.effects import Result, SqlEffectLog
from engines.fulfilment.gateway import TemporalFulfilment
from engines.fulfilment.model import (
    CreditDraw,
    DeliveryConfirmed,
    DriverAssigned,
    OrderSnapshot,
    RoutePlanned,
)
from engines.fulfilment.requests import DispatchStep, SqlDispatchRequests
from engines.gig import GigService
from engines.gig.events import StopArrived, StopDelivered, TaskAccepted, TaskPlanned
from engines.orders import OrderService

log = structlog.get_logger(__name__)


class DispatchDesk:
    """Warehouse, RoutePlanner and Dispatcher ports over the dispatch requests and the gig."""

    def __init__(
        self,
        effects: SqlEffectLog,
        requests: SqlDispatchRequests,
        orders: OrderService,
        gig: GigService | None,
        clock: Clock,
    ) -> None:
        self._effects = effects
        self._requests = requests
        self._orders = orders
        self._gig = gig
        self._clock = clock

    async def _request(self, reference: str, step: DispatchStep, key: str) -> bool:
        order = await self._orders.get(reference)

        async def work(s: AsyncSession) -> Result:
            added = await self._requests.add_in(
                s, order.reference, order.region.value, step, self._clock.now()
            )
            return {"reference": order.reference, "requested": step.value, "new": added}

        _, ran = await self._effects.once(key, work)
        return ran

    async def release_to_wave(self, reference: str, *, key: str) -> None:
        await self._request(reference, DispatchStep.WAVE, key)

    async def request_route(self, reference: str, *, key: str) -> None:
        await self._request(reference, DispatchStep.ROUTE, key)

    async def request_driver(self, reference: str, *, key: str) -> None:
        await self._request(reference, DispatchStep.DRIVER, key)
        if self._gig is not None:
            # Offers are one per task and per driver: running it again (a retry) offers only
            # what is still open, so no driver hears of a route twice.
            offers = await self._gig.allocate()
            log.info("workflow.driver_requested", reference=reference, offers=len(offers))


class CreditLine:
    """CreditDesk over the credit engine: `authorise` is idempotent per order reference."""

    def __init__(self, credit: CreditService, effects: SqlEffectLog) -> None:
        self._credit = credit
        self._effects = effects

    async def draw(self, order: OrderSnapshot, *, key: str) -> CreditDraw:
        # The first answer stands: a retry after a refusal must not draw on a line that was
        # paid down meanwhile, while the workflow is already unwinding.
        first = await self._effects.recorded(key)
        if first is not None:
            return CreditDraw(order.reference, bool(first["approved"]), first.get("refused"))
        try:
            await self._credit.authorise(order.reference, Phone(order.customer), order.total)
        except CreditRefusedError as refused:
            answer = CreditDraw(order.reference, approved=False, refused=refused.reason.value)
        else:
            answer = CreditDraw(order.reference, approved=True)

        async def work(_s: AsyncSession) -> Result:
            return {"approved": answer.approved, "refused": answer.refused}

        first, _ = await self._effects.once(key, work)
        return CreditDraw(order.reference, bool(first["approved"]), first.get("refused"))


Signal = Callable[[str], Awaitable[None]]


class GigSignals:
    """gig events -> the orders' workflows (an order without a running workflow is skipped)."""

    def __init__(self, fulfilment: Callable[[], TemporalFulfilment]) -> None:
        self._fulfilment = fulfilment

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(TaskPlanned.topic, "order-fulfilment-route", self.on_task_planned)
        bus.subscribe(TaskAccepted.topic, "order-fulfilment-driver", self.on_task_accepted)
        bus.subscribe(StopArrived.topic, "order-fulfilment-arrived", self.on_stop_arrived)
        bus.subscribe(StopDelivered.topic, "order-fulfilment-delivered", self.on_stop_delivered)

    async def on_task_planned(self, envelope: EventEnvelope) -> None:
        event = TaskPlanned.model_validate(envelope.data)
        for stop in event.stops:
            await self._route(stop.order_reference, RoutePlanned(event.route_id, stop.position))

    async def on_task_accepted(self, envelope: EventEnvelope) -> None:
        event = TaskAccepted.model_validate(envelope.data)
        driver = DriverAssigned(event.worker_id, event.worker_name)
        for stop in event.stops:
            await self._route(stop.order_reference, RoutePlanned(event.route_id, stop.position))
            await self._tell(stop.order_reference, lambda f, r: f.driver_assigned(r, driver))

    async def on_stop_arrived(self, envelope: EventEnvelope) -> None:
        event = StopArrived.model_validate(envelope.data)
        await self._tell(event.order_reference, lambda f, r: f.driver_arrived(r))

    async def on_stop_delivered(self, envelope: EventEnvelope) -> None:
        event = StopDelivered.model_validate(envelope.data)
        confirmed = DeliveryConfirmed(by=event.worker_id)
        await self._tell(event.order_reference, lambda f, r: f.delivery_confirmed(r, confirmed))

    async def _route(self, reference: str, route: RoutePlanned) -> None:
        await self._tell(reference, lambda f, r: f.route_planned(r, route))

    async def _tell(
        self,
        reference: str,
        send: Callable[[TemporalFulfilment, str], Awaitable[None]],
    ) -> None:
        try:
            await send(self._fulfilment(), reference)
        except RPCError as error:
            # No workflow (an order placed before workflows ran) or it has finished.
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            log.info("workflow.gig_event_without_workflow", reference=reference)
