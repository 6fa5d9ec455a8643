"""The durable processes: an order's fulfilment, a payment, the daily settlement, a new service.

Workflow code is deterministic: time from `workflow.now()`, waiting with `wait_condition` and
`sleep`, every effect in an activity; imports pass through the sandbox. What the engines that
do the work (payments, WMS, routing, gig) answer arrives as signals: a payment webhook, the
pick confirmed, a task planned, a driver accepting, arriving and keying in the code.

Retries and time-outs, on purpose (README "Workflows" has the same table):

- database steps (order status, notices, settlement records, requests to other engines):
  30 s each, retried from 1 s doubling to 60 s for up to 1 h, then the order is unwound; an
  unknown order or an impossible status change is never retried;
- payment rail calls (charge, requery): 20 s each, 2 s doubling to 30 s, 5 attempts; the
  charge's idempotency key makes a retry harmless;
- compensations (refund, cancel and release stock, notice): as database steps, for up to 24 h,
  because an unwind must finish;
- pure checks (service validation, simulation): 10 s, 3 attempts.

Waiting is bounded where a person is waiting: the payment window (15 minutes by default,
then one requery of the rail, then the order is unwound). Warehouse, route and driver steps
wait for their signal without a deadline but can be cancelled until the goods leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from engines.fulfilment.activities import FulfilmentActivities
    from engines.fulfilment.model import (
        ACCOUNT_CREDIT_METHOD,
        CREDIT_METHOD,
        CancelReason,
        Charge,
        ChargeRequest,
        CustomerNotice,
        DeliveryConfirmed,
        DriverAssigned,
        FulfilmentInput,
        FulfilmentResult,
        FulfilmentStatus,
        NoticeKind,
        OrderCancellation,
        OrderRef,
        OrderSnapshot,
        OrderStep,
        PaymentInput,
        PaymentNotice,
        PaymentResult,
        PaymentStatus,
        RefundRequest,
        RoutePlanned,
        ServiceCreationInput,
        ServiceCreationResult,
        SettlementInput,
        SettlementReport,
        Stage,
        StageChange,
        cancel_reason,
        paid_before_release,
        simulation_problems,
    )

A = TypeVar("A")
R = TypeVar("R")

TASK_QUEUE = "omniroute"
# Patches (workflow.patched) in force: each one names a change made while runs were in flight.
OUT_FOR_DELIVERY_NOTICE = "notify-out-for-delivery"
NO_CHARGE_WHEN_PAID = "no-charge-when-already-paid"
OVERPAYMENT_ACCEPTED = "accept-rounded-up-payment"
CREDIT_CHECKED = "draw-credit-before-release"
GOODS_RETURNED = "take-back-returned-goods"
NOTICE_EACH_DISPATCH = "notify-each-dispatch"
NOTICE_DISPATCHES_IN_TURN = "notify-dispatches-in-turn"
BACK_ORDER_PAID = "back-order-paid-by-original"
ACCOUNT_CREDIT_PAID = "account-credit-paid-before-release"
# How soon an order to be paid from her account credit is looked at again (doubling to a minute)
# while its payment window is open: the checkout pays it a moment after placing it.
CREDIT_LOOK_SECONDS = 5
SETTLEMENT_CUTOFF = time(1, 0)  # the day's settlement runs at 01:00 UTC the next day


@dataclass(frozen=True, slots=True)
class StepPolicy:
    start_to_close: timedelta
    retry: RetryPolicy
    schedule_to_close: timedelta | None = None


NEVER_RETRIED = ["UnknownOrderError", "InvalidTransitionError", "OutOfStockError"]
DATABASE = StepPolicy(
    start_to_close=timedelta(seconds=30),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=60),
        non_retryable_error_types=NEVER_RETRIED,
    ),
    schedule_to_close=timedelta(hours=1),
)
RAIL = StepPolicy(
    start_to_close=timedelta(seconds=20),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=5,
    ),
)
COMPENSATION = StepPolicy(
    start_to_close=DATABASE.start_to_close,
    retry=DATABASE.retry,
    schedule_to_close=timedelta(hours=24),
)
PURE = StepPolicy(start_to_close=timedelta(seconds=10), retry=RetryPolicy(maximum_attempts=3))

# Until the goods leave the warehouse an order can still be unwound.
CANCELLABLE = frozenset(
    {
        Stage.RESERVED,
        Stage.AWAITING_PAYMENT,
        Stage.CONFIRMED,
        Stage.IN_WAVE,
        Stage.PICKED,
        Stage.ROUTED,
    }
)


async def _step(
    fn: Callable[[FulfilmentActivities, A], Awaitable[R]], arg: A, policy: StepPolicy = DATABASE
) -> R:
    result: R = await workflow.execute_activity_method(
        fn,
        arg,
        start_to_close_timeout=policy.start_to_close,
        schedule_to_close_timeout=policy.schedule_to_close,
        retry_policy=policy.retry,
    )
    return result


def _from_account_credit(order: OrderSnapshot) -> bool:
    """Paid from the credit kept on her account (runs started before this was checked go on
    without waiting, as they did)."""
    return order.payment_method.upper() == ACCOUNT_CREDIT_METHOD and workflow.patched(
        ACCOUNT_CREDIT_PAID
    )


def order_workflow_id(reference: str) -> str:
    return f"order-{reference.upper()}"


def service_workflow_id(name: str, version: int) -> str:
    """One ServiceCreation per name and version: a second publish of it waits on the first."""
    return f"service-{name}-v{version}"


def payment_workflow_id(payment_id: str) -> str:
    return f"payment-{payment_id.upper()}"


@workflow.defn(name="Payment")
class PaymentWorkflow:
    """Start the rail once, wait for its webhook (a signal), requery once when it is late."""

    def __init__(self) -> None:
        self._notice: PaymentNotice | None = None
        self._abandoned = False
        self._status = PaymentStatus.PENDING

    @workflow.run
    async def run(self, payment: PaymentInput) -> PaymentResult:
        if self._notice is None:
            self._notice = payment.early_notice
        early = self._notice
        if early is not None and early.succeeded and workflow.patched(NO_CHARGE_WHEN_PAID):
            # The money came before we asked for it (a paybill payment, a fast webhook).
            return self._finish(self._from_notice(payment, early))
        request = ChargeRequest(payment.payment_id, payment.amount, payment.method, payment.payer)
        # One charge per payment: the activity's key is the rail's idempotency key.
        charge = await _step(FulfilmentActivities.start_charge, request, RAIL)
        if charge.status in (PaymentStatus.PAID, PaymentStatus.FAILED):
            return self._finish(self._from_charge(payment, charge))
        try:
            await workflow.wait_condition(
                lambda: self._notice is not None or self._abandoned,
                timeout=timedelta(seconds=payment.window_seconds),
            )
        except TimeoutError:
            # The webhook may have been lost: ask the rail instead of charging again.
            charge = await _step(FulfilmentActivities.requery_charge, request, RAIL)
            if charge.status in (PaymentStatus.PAID, PaymentStatus.FAILED):
                return self._finish(self._from_charge(payment, charge))
        if self._notice is not None:
            return self._finish(self._from_notice(payment, self._notice))
        status = PaymentStatus.ABANDONED if self._abandoned else PaymentStatus.EXPIRED
        return self._finish(PaymentResult(payment.payment_id, status))

    def _finish(self, result: PaymentResult) -> PaymentResult:
        self._status = result.status
        return result

    @staticmethod
    def _from_charge(payment: PaymentInput, charge: Charge) -> PaymentResult:
        return PaymentResult(
            payment.payment_id,
            charge.status,
            charge.provider_reference,
            charge.paid or (payment.amount if charge.status is PaymentStatus.PAID else None),
        )

    @staticmethod
    def _from_notice(payment: PaymentInput, notice: PaymentNotice) -> PaymentResult:
        if not notice.succeeded:
            return PaymentResult(
                payment.payment_id, PaymentStatus.FAILED, notice.provider_reference
            )
        short = notice.amount != payment.amount
        if short and workflow.patched(OVERPAYMENT_ACCEPTED):
            # M-Pesa takes whole shillings, rounded up: more than the total pays the order (the
            # change stays on the customer's account in the ledger); only less is refused.
            short = (
                notice.amount.currency != payment.amount.currency
                or notice.amount.amount < payment.amount.amount
            )
        if short:
            # Money came in, but not the order's total: refused, and what came is refunded.
            return PaymentResult(
                payment.payment_id, PaymentStatus.FAILED, notice.provider_reference, notice.amount
            )
        return PaymentResult(
            payment.payment_id, PaymentStatus.PAID, notice.provider_reference, notice.amount
        )

    @workflow.signal
    def webhook(self, notice: PaymentNotice) -> None:
        """The provider's callback; the first one that settles the payment counts."""
        if self._notice is None or not self._notice.succeeded:
            self._notice = notice

    @workflow.signal
    def abandon(self) -> None:
        self._abandoned = True

    @workflow.query
    def status(self) -> PaymentStatus:
        return self._status


@workflow.defn(name="OrderFulfilment")
class OrderFulfilmentWorkflow:
    """reserve → payment or credit → wave → route → driver → delivery → settlement.

    Reservation happens when the order is placed (same transaction as the order), so the story
    starts reserved. Prepaid rails wait for their money; credit orders are drawn on the
    customer's credit line (refused: unwound); on delivery goes straight on. Anything that goes
    wrong before the goods leave unwinds in reverse: refund what was paid, cancel the order and
    release its stock, tell the customer. Goods that left and came back (an escalated delivery
    an operator resolved as returned) end returned: refund what was paid, tell the customer.
    """

    def __init__(self) -> None:
        self._reference = ""
        self._history: list[StageChange] = []
        self._stage = Stage.RESERVED
        self._payment: PaymentResult | None = None
        self._notice: PaymentNotice | None = None
        self._payment_child: workflow.ChildWorkflowHandle[Any, PaymentResult] | None = None
        self._picked = False
        self._route: RoutePlanned | None = None
        self._driver: DriverAssigned | None = None
        self._delivered: DeliveryConfirmed | None = None
        self._returned = False
        self._recalled = False  # dispatched, then packed again: waiting for another route
        self._dispatches = 1  # the goods' dispatch, counting those after a recall
        self._told = 1  # the dispatch the customer was last told is on its way
        self._cancel: CancelReason | None = None

    @workflow.run
    async def run(self, start: FulfilmentInput) -> FulfilmentResult:
        self._reference = start.reference.upper()
        ref = OrderRef(self._reference)
        try:
            order = await _step(FulfilmentActivities.load_order, ref)
        except ActivityError as error:
            # Nothing read, nothing to unwind (no order to cancel, no payment yet): the run fails
            # untouched, but loudly. Only a log line (not replayed, no command): no patch needed.
            workflow.logger.error(
                "order %s could not be read (%s): its fulfilment failed, nothing was unwound",
                self._reference,
                error.cause or error,
            )
            raise
        if start.payment_method is not None:
            order = dataclasses.replace(order, payment_method=start.payment_method)
        self._enter(Stage.RESERVED)
        try:
            result = await self._fulfil(order, start)
        except (ActivityError, ChildWorkflowError, asyncio.CancelledError) as error:
            # A step that kept failing, or `temporal workflow cancel`: unwind while we still may.
            if self._stage in CANCELLABLE:
                await self._unwind(order, self._cancel or _failure(error))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _fulfil(self, order: OrderSnapshot, start: FulfilmentInput) -> FulfilmentResult:
        ref = OrderRef(order.reference)
        if paid_before_release(order.payment_method) and not (
            # a back-order of a paid order: its money came with the original's payment (given
            # back from there, core.app.refunds, if it is not delivered)
            order.paid_by_original and workflow.patched(BACK_ORDER_PAID)
        ):
            self._enter(Stage.AWAITING_PAYMENT)
            self._payment = await self._collect_payment(order, start)
            if self._payment.status is not PaymentStatus.PAID:
                return await self._unwind(order, _reason(self._payment.status, self._cancel))
        elif order.payment_method.upper() == CREDIT_METHOD and workflow.patched(CREDIT_CHECKED):
            # Credit is the payment: the line must carry the order before anything is picked
            # (checkout asked too, but a line can fill up between checkout and here).
            draw = await _step(FulfilmentActivities.draw_credit, order)
            if not draw.approved:
                return await self._unwind(order, CancelReason.CREDIT_REFUSED)
        elif _from_account_credit(order) and not await self._paid_from_credit(order, start):
            # Paid at checkout from the credit kept on her account, as a prepaid rail is paid
            # before anything is picked: a checkout that died after placing it (or found her
            # credit spent) leaves it unpaid, and it is unwound when the payment window ends.
            return await self._unwind(order, self._cancel or CancelReason.PAYMENT_EXPIRED)
        if self._cancel is not None:
            return await self._unwind(order, self._cancel)
        await self._advance(ref, "confirmed", Stage.CONFIRMED)

        await _step(FulfilmentActivities.release_to_wave, ref)
        await self._advance(ref, "picking", Stage.IN_WAVE)
        if not await self._until(lambda: self._picked):
            return await self._unwind(order, self._cancelled())
        await self._advance(ref, "packed", Stage.PICKED)

        await _step(FulfilmentActivities.request_route, ref)
        if not await self._until(lambda: self._route is not None):
            return await self._unwind(order, self._cancelled())
        self._enter(Stage.ROUTED)

        await _step(FulfilmentActivities.request_driver, ref)
        if not await self._until(lambda: self._driver is not None):
            return await self._unwind(order, self._cancelled())
        await self._advance(ref, "dispatched", Stage.OUT_FOR_DELIVERY)
        if workflow.patched(OUT_FOR_DELIVERY_NOTICE):
            # Added after the first release: runs recorded before it replay without the notice.
            await _step(
                FulfilmentActivities.notify_customer,
                CustomerNotice(order.reference, NoticeKind.OUT_FOR_DELIVERY),
            )
        if workflow.patched(NOTICE_EACH_DISPATCH):
            await self._tell_each_dispatch(order)

        await workflow.wait_condition(lambda: self._delivered is not None or self._returned)
        if self._delivered is None and workflow.patched(GOODS_RETURNED):
            # The goods came back (an operator resolved an escalated stop): no settlement.
            return await self._take_back(order)
        # Runs recorded before the patch never had a return to act on: they wait as they did.
        await workflow.wait_condition(lambda: self._delivered is not None)
        await self._advance(ref, "delivered", Stage.DELIVERED)
        await _step(
            FulfilmentActivities.notify_customer,
            CustomerNotice(order.reference, NoticeKind.DELIVERED),
        )
        await _step(FulfilmentActivities.record_settlement, order)
        self._enter(Stage.SETTLED)
        return FulfilmentResult(order.reference, Stage.SETTLED)

    async def _tell_each_dispatch(self, order: OrderSnapshot) -> None:
        """Until the goods arrive or come back: an order recalled (its route expired before the
        door) and dispatched again is on its way again, and the customer is told, once per
        dispatch (a redelivered "dispatched" is not a new one)."""
        while True:
            await workflow.wait_condition(
                lambda: (
                    self._delivered is not None or self._returned or self._dispatches > self._told
                )
            )
            if self._delivered is not None or self._returned:
                return
            if workflow.patched(NOTICE_DISPATCHES_IN_TURN):
                # Two dispatches heard in one go (recalled twice): each is told, in turn.
                self._told += 1
            else:
                self._told = self._dispatches
            await _step(
                FulfilmentActivities.notify_customer,
                CustomerNotice(order.reference, NoticeKind.OUT_FOR_DELIVERY, dispatch=self._told),
            )

    async def _collect_payment(self, order: OrderSnapshot, start: FulfilmentInput) -> PaymentResult:
        early = self._notice
        handle = await workflow.start_child_workflow(
            PaymentWorkflow.run,
            PaymentInput(
                payment_id=order.reference,
                amount=order.total,
                method=order.payment_method,
                payer=order.customer,
                window_seconds=start.payment_window_seconds,
                early_notice=early,
            ),
            id=payment_workflow_id(order.reference),
        )
        self._payment_child = handle
        if self._notice is not None and self._notice is not early:
            # It came while the payment was starting: pass it on, it still counts.
            await handle.signal(PaymentWorkflow.webhook, self._notice)
        await workflow.wait_condition(lambda: handle.done() or self._cancel is not None)
        if not handle.done():
            await handle.signal(PaymentWorkflow.abandon)
        return await handle

    async def _paid_from_credit(self, order: OrderSnapshot, start: FulfilmentInput) -> bool:
        """Whether the order is paid from her account credit within its payment window (False
        when the window ends first, or it is cancelled meanwhile). No rail tells us: the order
        is read again, soon and then less often."""
        if order.paid:
            return True
        self._enter(Stage.AWAITING_PAYMENT)
        ends = workflow.now() + timedelta(seconds=start.payment_window_seconds)
        look = CREDIT_LOOK_SECONDS
        ref = OrderRef(order.reference)
        while workflow.now() < ends:
            wait = min(timedelta(seconds=look), ends - workflow.now())
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._cancel is not None, timeout=wait)
            if self._cancel is not None:
                return False
            if (await _step(FulfilmentActivities.load_order, ref)).paid:
                return True
            look = min(look * 2, 60)
        return False

    async def _advance(self, ref: OrderRef, status: str, stage: Stage) -> None:
        await _step(FulfilmentActivities.advance_order, OrderStep(ref.reference, status))
        self._enter(stage)

    async def _until(self, ready: Callable[[], bool]) -> bool:
        """Wait for a signal; False when the order was cancelled instead."""
        await workflow.wait_condition(lambda: ready() or self._cancel is not None)
        return self._cancel is None

    def _cancelled(self) -> CancelReason:
        return self._cancel or CancelReason.CUSTOMER

    async def _unwind(self, order: OrderSnapshot, reason: CancelReason) -> FulfilmentResult:
        self._cancel = reason
        self._enter(Stage.COMPENSATING)
        await self._refund_what_was_paid(order)
        await _step(
            FulfilmentActivities.cancel_order,
            OrderCancellation(order.reference, reason.value),
            COMPENSATION,
        )
        await _step(
            FulfilmentActivities.notify_customer,
            CustomerNotice(order.reference, NoticeKind.CANCELLED, reason),
            COMPENSATION,
        )
        self._enter(Stage.CANCELLED)
        return FulfilmentResult(order.reference, Stage.CANCELLED, reason)

    async def _take_back(self, order: OrderSnapshot) -> FulfilmentResult:
        """The goods left and came back: the order is returned (its stock back on the shelves,
        `OrderService`), what was paid refunded, the customer told. Not `_unwind`: a dispatched
        order cannot be cancelled, and its picked goods are returned, not merely unreserved."""
        self._enter(Stage.COMPENSATING)
        await self._refund_what_was_paid(order)
        await _step(
            FulfilmentActivities.advance_order,
            OrderStep(order.reference, "returned"),
            COMPENSATION,
        )
        await _step(
            FulfilmentActivities.notify_customer,
            CustomerNotice(order.reference, NoticeKind.RETURNED),
            COMPENSATION,
        )
        self._enter(Stage.RETURNED)
        return FulfilmentResult(order.reference, Stage.RETURNED)

    async def _refund_what_was_paid(self, order: OrderSnapshot) -> None:
        """The compensation both endings share (the same activity call: histories replay)."""
        paid = self._payment.paid if self._payment is not None else None
        if paid is not None:
            await _step(
                FulfilmentActivities.refund,
                RefundRequest(order.reference, paid, self._payment_reference()),
                COMPENSATION,
            )

    def _payment_reference(self) -> str | None:
        return self._payment.provider_reference if self._payment is not None else None

    def _enter(self, stage: Stage) -> None:
        self._stage = stage
        self._history.append(StageChange(stage, workflow.now()))

    # signals: what the engines and edges push in ------------------------------------------
    @workflow.signal
    async def payment_received(self, notice: PaymentNotice) -> None:
        """A payment webhook; before the payment step starts it is kept and still counts."""
        self._notice = notice
        child = self._payment_child
        if child is not None and not child.done():
            await child.signal(PaymentWorkflow.webhook, notice)

    @workflow.signal
    def wave_picked(self) -> None:
        self._picked = True

    @workflow.signal
    def route_planned(self, route: RoutePlanned) -> None:
        self._route = route
        if self._recalled and self._stage is Stage.PICKED:
            self._enter(Stage.ROUTED)

    @workflow.signal
    def driver_assigned(self, driver: DriverAssigned) -> None:
        self._driver = driver

    @workflow.signal
    def driver_arrived(self) -> None:
        if self._stage is Stage.OUT_FOR_DELIVERY:
            self._enter(Stage.DRIVER_ARRIVED)

    @workflow.signal
    def delivery_confirmed(self, confirmation: DeliveryConfirmed) -> None:
        self._delivered = confirmation

    @workflow.signal
    def cancel(self, reason: str | None = None) -> None:
        """The customer (`reason` "customer") or an operator (no reason) cancels; refused once
        the goods have left. The customer's cancellation notice names the reason."""
        if self._stage in CANCELLABLE and self._cancel is None:
            self._cancel = cancel_reason(reason)

    @workflow.signal
    def status_changed(self, status: str, reason: str | None = None) -> None:
        """An order status set outside this workflow (an operator, a driver app), with the
        reason the orders engine gave for it (`OrderStatusChanged.reason`)."""
        if status == "cancelled":
            self.cancel(reason)
        elif status == "delivered" and self._delivered is None:
            self._delivered = DeliveryConfirmed(by="status")
        elif status == "returned":
            # acted on only once the goods are out (the wait after OUT_FOR_DELIVERY)
            self._returned = True
        elif status == "packed" and self._stage is Stage.OUT_FOR_DELIVERY:
            # The route expired before its first door (the gig platform recalled the order):
            # the goods wait at the dock for another route and driver. The run itself still
            # waits for the delivery; only where the order stands, and who carries it, change.
            self._recalled = True
            self._route = None
            self._driver = None
            self._enter(Stage.PICKED)
        elif status == "dispatched" and self._recalled:
            self._recalled = False
            self._dispatches += 1
            self._enter(Stage.OUT_FOR_DELIVERY)

    # queries: where is the order ------------------------------------------------------------
    @workflow.query
    def status(self) -> FulfilmentStatus:
        return FulfilmentStatus(
            reference=self._reference,
            stage=self._stage,
            paid=self._payment is not None and self._payment.status is PaymentStatus.PAID,
            route_id=self._route.route_id if self._route else None,
            driver_id=self._driver.driver_id if self._driver else None,
            cancel_reason=self._cancel if self._stage is Stage.CANCELLED else None,
            history=tuple(self._history),
        )

    @workflow.query
    def stage(self) -> Stage:
        return self._stage


def _failure(error: BaseException) -> CancelReason:
    """Why an order whose run failed is unwound: an operator cancelled the run itself
    (`temporal workflow cancel`), or a step kept failing."""
    if isinstance(error, asyncio.CancelledError):
        return CancelReason.OPERATOR
    return CancelReason.FAILED


def _reason(status: PaymentStatus, cancel: CancelReason | None) -> CancelReason:
    if status is PaymentStatus.EXPIRED:
        return CancelReason.PAYMENT_EXPIRED
    if status is PaymentStatus.ABANDONED:
        return cancel or CancelReason.CUSTOMER
    return CancelReason.PAYMENT_FAILED


@workflow.defn(name="DailySettlement")
class SettlementWorkflow:
    """One day's settlement; the `daily-settlement` schedule starts it every night."""

    @workflow.run
    async def run(self, settlement: SettlementInput) -> SettlementReport:
        now = workflow.now()
        day = settlement.day or (now - timedelta(days=1)).date()
        if settlement.wait_for_close:
            close = datetime.combine(day + timedelta(days=1), SETTLEMENT_CUTOFF, tzinfo=UTC)
            if close > now:
                await workflow.sleep(close - now)
        return await _step(FulfilmentActivities.settle_day, SettlementInput(day=day))


@workflow.defn(name="ServiceCreation")
class ServiceCreationWorkflow:
    """validate → simulate → publish → notify: an operator's service goes live only when sound."""

    def __init__(self) -> None:
        self._stage = "validating"

    @workflow.run
    async def run(self, creation: ServiceCreationInput) -> ServiceCreationResult:
        definition = creation.definition
        problems = await _step(FulfilmentActivities.validate_service, definition, PURE)
        if not problems:
            self._stage = "simulating"
            report = await _step(FulfilmentActivities.simulate_service, definition, PURE)
            problems = simulation_problems(definition, report)
        if not problems:
            self._stage = "publishing"
            problems = await _step(FulfilmentActivities.publish_service, creation)
        if problems:
            self._stage = "rejected"
            return ServiceCreationResult(definition.name, definition.version, False, problems)
        await _step(FulfilmentActivities.notify_operator, creation)
        self._stage = "published"
        return ServiceCreationResult(definition.name, definition.version, True)

    @workflow.query
    def stage(self) -> str:
        return self._stage


WORKFLOWS = [OrderFulfilmentWorkflow, PaymentWorkflow, SettlementWorkflow, ServiceCreationWorkflow]
