"""The fulfilment activities: thin, idempotent calls through the ports.

Each activity derives its idempotency key from where it runs — `<workflow id>:<activity>` plus
a detail when one workflow calls it more than once — so every retry of one step, on any worker,
after any crash, carries the same key, and the adapter does the effect once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio import activity

from engines.fulfilment.model import (
    Charge,
    ChargeRequest,
    CreditDraw,
    CustomerNotice,
    OrderCancellation,
    OrderRef,
    OrderSnapshot,
    OrderStep,
    RefundRequest,
    ServiceCreationInput,
    ServiceDefinition,
    SettlementInput,
    SettlementReport,
    SimulationReport,
    simulate_service,
    validate_service,
)
from engines.fulfilment.ports import (
    CreditDesk,
    CustomerNotifier,
    Dispatcher,
    OperatorNotifier,
    OrderDesk,
    PaymentRail,
    RoutePlanner,
    ServicePublisher,
    Settlement,
    Warehouse,
)


def effect_key(detail: str | None = None) -> str:
    info = activity.info()
    key = f"{info.workflow_id}:{info.activity_type}"
    return key if detail is None else f"{key}:{detail}"


@dataclass(frozen=True, slots=True)
class Ports:
    orders: OrderDesk
    customers: CustomerNotifier
    rail: PaymentRail
    warehouse: Warehouse
    routes: RoutePlanner
    dispatch: Dispatcher
    settlement: Settlement
    registry: ServicePublisher
    operators: OperatorNotifier
    credit: CreditDesk | None = None  # None: no ledger, so credit orders are not checked


class FulfilmentActivities:
    """Built once per worker with the ports; Temporal calls the bound methods."""

    def __init__(self, ports: Ports) -> None:
        self._p = ports

    @property
    def ports(self) -> Ports:
        return self._p

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.load_order,
            self.advance_order,
            self.cancel_order,
            self.notify_customer,
            self.start_charge,
            self.requery_charge,
            self.refund,
            self.draw_credit,
            self.release_to_wave,
            self.request_route,
            self.request_driver,
            self.record_settlement,
            self.settle_day,
            self.validate_service,
            self.simulate_service,
            self.publish_service,
            self.notify_operator,
        ]

    @activity.defn
    async def load_order(self, ref: OrderRef) -> OrderSnapshot:
        return await self._p.orders.snapshot(ref.reference)

    @activity.defn
    async def advance_order(self, step: OrderStep) -> OrderSnapshot:
        return await self._p.orders.advance(
            step.reference, step.status, key=effect_key(step.status)
        )

    @activity.defn
    async def cancel_order(self, cancel: OrderCancellation) -> OrderSnapshot:
        """Compensation: cancel and give the reserved stock back."""
        return await self._p.orders.cancel_and_release(
            cancel.reference, reason=cancel.reason, key=effect_key()
        )

    @activity.defn
    async def notify_customer(self, notice: CustomerNotice) -> bool:
        detail = notice.kind.value
        if notice.dispatch is not None:
            detail = f"{detail}:{notice.dispatch}"
        return await self._p.customers.notify(notice, key=effect_key(detail))

    @activity.defn
    async def start_charge(self, request: ChargeRequest) -> Charge:
        return await self._p.rail.start_charge(request, key=effect_key())

    @activity.defn
    async def requery_charge(self, request: ChargeRequest) -> Charge:
        return await self._p.rail.requery(request.payment_id)

    @activity.defn
    async def refund(self, request: RefundRequest) -> Charge:
        return await self._p.rail.refund(request, key=effect_key())

    @activity.defn
    async def draw_credit(self, order: OrderSnapshot) -> CreditDraw:
        if self._p.credit is None:
            return CreditDraw(order.reference, approved=True)
        return await self._p.credit.draw(order, key=effect_key())

    @activity.defn
    async def release_to_wave(self, ref: OrderRef) -> None:
        await self._p.warehouse.release_to_wave(ref.reference, key=effect_key())

    @activity.defn
    async def request_route(self, ref: OrderRef) -> None:
        await self._p.routes.request_route(ref.reference, key=effect_key())

    @activity.defn
    async def request_driver(self, ref: OrderRef) -> None:
        await self._p.dispatch.request_driver(ref.reference, key=effect_key())

    @activity.defn
    async def record_settlement(self, order: OrderSnapshot) -> None:
        await self._p.settlement.record_order(order, key=effect_key())

    @activity.defn
    async def settle_day(self, settlement: SettlementInput) -> SettlementReport:
        assert settlement.day is not None, "the workflow decides the day"
        return await self._p.settlement.settle_day(
            settlement.day, key=effect_key(settlement.day.isoformat())
        )

    @activity.defn
    async def validate_service(self, definition: ServiceDefinition) -> tuple[str, ...]:
        return validate_service(definition)

    @activity.defn
    async def simulate_service(self, definition: ServiceDefinition) -> SimulationReport:
        return simulate_service(definition)

    @activity.defn
    async def publish_service(self, creation: ServiceCreationInput) -> tuple[str, ...]:
        return await self._p.registry.publish(creation, key=effect_key())

    @activity.defn
    async def notify_operator(self, created: ServiceCreationInput) -> None:
        if created.operator is not None:
            await self._p.operators.service_published(
                created.operator, created.definition, key=effect_key()
            )
