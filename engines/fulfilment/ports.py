"""What the fulfilment activities need from the rest of the system, as role-named protocols.

Every method that changes something takes `key`, the activity's idempotency key
(`<workflow id>:<activity>[:<detail>]`, the same on every retry): an adapter does the effect at
most once per key and answers a repeat with the first answer. The orders, stock and
notification adapters exist today; the payment rail, warehouse, routing, driver and settlement
ones are answered by `PendingEngines` (the request is recorded, the answer comes as a signal)
until their engines land and the lead wires them here.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from engines.fulfilment.model import (
    Charge,
    ChargeRequest,
    CustomerNotice,
    OrderSnapshot,
    RefundRequest,
    ServiceDefinition,
    SettlementReport,
)


class OrderDesk(Protocol):
    async def snapshot(self, reference: str) -> OrderSnapshot: ...

    async def advance(self, reference: str, status: str, *, key: str) -> OrderSnapshot:
        """Move the order to `status`; already there (a retry) is not an error."""
        ...

    async def cancel_and_release(self, reference: str, *, key: str) -> OrderSnapshot:
        """Cancel the order and give its reserved stock back, in one transaction."""
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


class Warehouse(Protocol):
    async def release_to_wave(self, reference: str, *, key: str) -> None: ...


class RoutePlanner(Protocol):
    async def request_route(self, reference: str, *, key: str) -> None: ...


class Dispatcher(Protocol):
    async def request_driver(self, reference: str, *, key: str) -> None: ...


class Settlement(Protocol):
    async def record_order(self, order: OrderSnapshot, *, key: str) -> None:
        """Put a delivered order into the day's settlement."""
        ...

    async def settle_day(self, day: date, *, key: str) -> SettlementReport: ...


class ServicePublisher(Protocol):
    async def publish(self, definition: ServiceDefinition, *, key: str) -> None: ...


class OperatorNotifier(Protocol):
    async def service_published(
        self, operator: str, definition: ServiceDefinition, *, key: str
    ) -> None: ...
