"""The order workflow's payment rail, answered by engines.payments.

The conversation (or GraphQL) already created and submitted the order's payment intent, keyed by
the order, before the workflow asked; so `start_charge` submits nothing again, it reports what
the intent says. The provider's webhook reaches the workflow as a `payment_received` signal
(`PaymentSignals`), and the workflow's requery after its window reads the intent, which the
payments requery job keeps current. A refund goes through the rail the order was paid by
(core/app/refunds.py), keyed by the activity; one the rails cannot make (nothing collected, or
more than is left) is recorded for an operator.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import structlog

from core.app.refunds import NothingToRefundError, RefundDesk
from core.bus import EventBus, EventEnvelope
from core.money import Money
from engines.fulfilment.adapters import PendingEngines
from engines.fulfilment.gateway import OrderNotWaitingError, TemporalFulfilment
from engines.fulfilment.model import (
    Charge,
    ChargeRequest,
    PaymentNotice,
    PaymentStatus,
    RefundRequest,
)
from engines.fulfilment.ports import OrderDesk
from engines.orders import PaymentMethod, UnknownOrderError
from engines.orders.events import OrderPaidFromCredit
from engines.payments import PaymentError, PaymentService
from engines.payments.events import PaymentSucceeded
from engines.payments.model import IntentStatus, PaymentIntent

log = structlog.get_logger(__name__)

_CLOSED_UNPAID = frozenset({IntentStatus.FAILED, IntentStatus.CANCELLED})
CREDIT_PAID = "account_credit"  # the payment reference of an order her account credit paid


def charge_of(
    payment_id: str, intents: list[PaymentIntent], *, paid_from_credit: bool = False
) -> Charge:
    """The order's money as the workflow sees it: paid once any intent succeeded, or once her
    account credit paid it (`paid_from_credit`: Pay again found her credit covers it)."""
    collected = [i for i in intents if i.direction.value == "collect"]
    for intent in collected:
        if intent.status is IntentStatus.SUCCEEDED:
            return Charge(
                payment_id,
                PaymentStatus.PAID,
                intent.receipt or intent.provider_reference or intent.id.hex,
                intent.amount,
            )
    if paid_from_credit:
        return Charge(payment_id, PaymentStatus.PAID, CREDIT_PAID)
    if collected and all(i.status in _CLOSED_UNPAID for i in collected):
        return Charge(payment_id, PaymentStatus.FAILED)
    return Charge(payment_id, PaymentStatus.PENDING)


class IntentRail:
    """PaymentRail over the payment intents; refunds through the refund desk."""

    def __init__(
        self,
        payments: PaymentService,
        recorder: PendingEngines,
        refunds: RefundDesk | None = None,
        orders: OrderDesk | None = None,
    ) -> None:
        self._payments = payments
        self._recorder = recorder
        self._refunds = refunds
        self._orders = orders

    async def start_charge(self, request: ChargeRequest, *, key: str) -> Charge:
        return await self.requery(request.payment_id)

    async def requery(self, payment_id: str) -> Charge:
        intents = await self._payments.for_order(payment_id)
        # no rail tells us when her account credit paid it (Pay again): the order says so
        paid = self._orders is not None and (await self._orders.snapshot(payment_id)).paid
        return charge_of(payment_id, intents, paid_from_credit=paid)

    async def refund(self, request: RefundRequest, *, key: str) -> Charge:
        if self._refunds is not None:
            try:
                refund = await self._refunds.refund_up_to(
                    request.payment_id, request.amount, key=key, reason="Order unwound"
                )
            except (NothingToRefundError, PaymentError) as exc:
                log.warning("workflow.refund_not_sent", order=request.payment_id, error=str(exc))
            else:
                status = {
                    IntentStatus.SUCCEEDED: PaymentStatus.PAID,
                    IntentStatus.FAILED: PaymentStatus.FAILED,
                }.get(refund.status, PaymentStatus.PENDING)
                return Charge(request.payment_id, status, refund.provider_reference, refund.amount)
        log.warning("workflow.refund_recorded", order=request.payment_id)
        return await self._recorder.refund(request, key=key)


class HasFulfilment(Protocol):
    @property
    def fulfilment(self) -> TemporalFulfilment: ...


class PaymentSignals:
    """payment.succeeded → the order's workflow hears `payment_received`. A rail asked only
    the rest of an order whose account credit paid a part (its hold took it): the notice
    counts that part too, so the workflow sees the order's total paid, not a short payment.
    An order on a rail that her account credit paid whole (Pay again) is heard the same way,
    at once: no rail will report it, and its payment window need not run out first."""

    def __init__(self, runtime: HasFulfilment, orders: OrderDesk | None = None) -> None:
        self._runtime = runtime
        self._orders = orders

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "order-fulfilment-payment", self.on_succeeded)
        bus.subscribe(
            OrderPaidFromCredit.topic, "order-fulfilment-credit-payment", self.on_paid_from_credit
        )

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != "collect" or event.order_reference is None:
            return
        received = Money(Decimal(event.received), event.currency)
        asked = Money(Decimal(event.amount), event.currency)
        if self._orders is not None:
            try:
                total = (await self._orders.snapshot(event.order_reference)).total
            except UnknownOrderError:
                total = asked  # no order of ours: no workflow waits for it either
            if asked.currency == total.currency and asked < total:
                received = received + (total - asked)  # her credit's part
        notice = PaymentNotice(event.provider, event.receipt or event.intent_id, received)
        await self._signal(event.order_reference, notice)

    async def on_paid_from_credit(self, envelope: EventEnvelope) -> None:
        event = OrderPaidFromCredit.model_validate(envelope.data)
        if event.payment_method == PaymentMethod.ACCOUNT_CREDIT.value:
            return  # its workflow waits for no rail: it reads the order
        total = Money(Decimal(event.total), event.currency)
        # as `charge_of` reads it at the window's end, a moment later
        await self._signal(event.reference, PaymentNotice(CREDIT_PAID, CREDIT_PAID, total))

    async def _signal(self, reference: str, notice: PaymentNotice) -> None:
        try:
            await self._runtime.fulfilment.payment_received(reference, notice)
        except OrderNotWaitingError:
            # The order's story ended (expired or cancelled) before the money came: the late
            # money refunder (core/app/refunds.py) gives it back.
            log.warning("workflow.payment_after_order_ended", order=reference)
