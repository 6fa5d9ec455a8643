"""What the fulfilment activities need from the rest of the system, as role-named protocols.

Every method that changes something takes `key`, the activity's idempotency key
(`<workflow id>:<activity>[:<detail>]`, the same on every retry): an adapter does the effect at
most once per key and answers a repeat with the first answer. The orders, stock and
notification adapters are in engines.fulfilment.adapters; the payment rail, credit line,
warehouse, routing, driver and settlement ones join other engines and live in core.app
(`workflow_payments`, `workflow_dispatch`, `workflow_settlement`). `PendingEngines` still
records what has no engine behind it (refunds); the service registry is engines.registry's
(core.app.services).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from engines.fulfilment.model import (
    Charge,
    ChargeRequest,
    CreditDraw,
    CustomerNotice,
    OrderSnapshot,
    RefundRequest,
    ServiceCreationInput,
    ServiceDefinition,
    SettlementReport,
)


class OrderDesk(Protocol):
    async def snapshot(self, reference: str) -> OrderSnapshot: ...

    async def advance(self, reference: str, status: str, *, key: str) -> OrderSnapshot:
        """Move the order to `status`; already there (a retry) or past it (the engines moved it
        before the workflow heard) is not an error."""
        ...

    async def cancel_and_release(
        self, reference: str, *, reason: str | None, key: str
    ) -> OrderSnapshot:
        """Cancel the order and give its reserved stock back, in one transaction; `reason` goes
        into its cancelled event."""
        ...


class CustomerNotifier(Protocol):
    async def notify(self, notice: CustomerNotice, *, key: str) -> bool:
        """Queue the customer's message; False when it was already queued under `key`."""
        ...


class PaymentRail(Protocol):
    async def start_charge(self, request: ChargeRequest, *, key: str) -> Charge:
        """Ask the rail to charge; a repeated key never charges again (returns the first charge)."""
        ...

    async def requery(self, payment_id: str) -> Charge:
        """Ask the rail where a charge stands (the webhook may have been lost)."""
        ...

    async def refund(self, request: RefundRequest, *, key: str) -> Charge: ...


class CreditDesk(Protocol):
    async def draw(self, order: OrderSnapshot, *, key: str) -> CreditDraw:
        """Hold the order's total on the customer's credit line, once per order; a refusal is
        an answer (approved False with the reason), not an error."""
        ...


class Warehouse(Protocol):
    async def release_to_wave(self, reference: str, *, key: str) -> None:
        """Make the order eligible for the warehouse's next wave plan."""
        ...


class RoutePlanner(Protocol):
    async def request_route(self, reference: str, *, key: str) -> None:
        """Register the order for its region's next route plan."""
        ...


class Dispatcher(Protocol):
    async def request_driver(self, reference: str, *, key: str) -> None:
        """Offer the order's route to a driver now (gig allocation); the answer is a signal."""
        ...


class Settlement(Protocol):
    async def record_order(self, order: OrderSnapshot, *, key: str) -> None:
        """Put a delivered order into the day's settlement."""
        ...

    async def settle_day(self, day: date, *, key: str) -> SettlementReport: ...


class ServicePublisher(Protocol):
    async def publish(self, creation: ServiceCreationInput, *, key: str) -> tuple[str, ...]:
        """Put the definition in the registry, once; why it cannot be (a version already
        published differently, a service code taken), as problems, else nothing."""
        ...


class OperatorNotifier(Protocol):
    async def service_published(
        self, operator: str, definition: ServiceDefinition, *, key: str
    ) -> None: ...
