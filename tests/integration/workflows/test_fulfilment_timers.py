"""An order's whole story on the time-skipping test server: signals in, effects once, timers."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.app.bootstrap import Services
from core.app.workflows import SANDBOX, make_worker
from core.bus.tables import outbox
from core.money import Money
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.adapters import SqlOrderDesk
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.gateway import OrderNotWaitingError, TemporalFulfilment
from engines.fulfilment.model import (
    CancelReason,
    DeliveryConfirmed,
    DriverAssigned,
    FulfilmentInput,
    OrderSnapshot,
    PaymentNotice,
    RoutePlanned,
    ServiceCreationInput,
    ServiceDefinition,
    ServiceState,
    SettlementInput,
    Stage,
)
from engines.fulfilment.workflows import (
    WORKFLOWS,
    OrderFulfilmentWorkflow,
    ServiceCreationWorkflow,
    SettlementWorkflow,
    order_workflow_id,
    payment_workflow_id,
)
from engines.orders import OrderStatus
from engines.registry import ServiceRegistry
from tests.integration.workflows.conftest import (
    NGOZI,
    available,
    effects,
    place,
    start_fulfilment,
    texts_to,
    until_stage,
)

pytestmark = [pytest.mark.real, pytest.mark.slow]


@pytest.fixture
def database_url(any_database_url: str) -> str:
    """Every story on SQLite and on PostgreSQL: the effects and stock SQL must hold on both."""
    return any_database_url


async def test_on_delivery_order_goes_from_reservation_to_settlement_by_signals(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        assert (await services.orders.get(order.reference)).status is OrderStatus.PICKING
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await until_stage(handle, Stage.PICKED)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-7", 3))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1", "Musa"))
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await handle.signal(OrderFulfilmentWorkflow.driver_arrived)
        status = await until_stage(handle, Stage.DRIVER_ARRIVED)
        assert (status.route_id, status.driver_id) == ("R-7", "D-1")
        await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed("4821"))
        result = await handle.result()

    assert result.stage is Stage.SETTLED
    assert (await services.orders.get(order.reference)).status is OrderStatus.DELIVERED
    texts = await texts_to(services)
    assert [t for t in texts if "on its way" in t or "is delivered" in t] == [
        f"OmniRoute: order {order.reference} is on its way to you.",
        f"OmniRoute: order {order.reference} is delivered. Thank you!",
    ]
    keys = await effects(services)
    assert f"settlement-record:{order.reference}" in keys
    assert f"order-{order.reference}:release_to_wave" in keys


async def test_unpaid_order_is_unwound_after_the_payment_window(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    before = await available(services)
    order = await place(services)
    assert await available(services) == before - 3
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_method="MPESA"
        )
        result = await handle.result()  # the 15-minute window passes in skipped time
        history = await skipping.client.get_workflow_handle(
            payment_workflow_id(order.reference)
        ).fetch_history()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.PAYMENT_EXPIRED)
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    assert await available(services) == before
    assert any("no payment arrived in time" in text for text in await texts_to(services))
    keys = await effects(services)
    assert keys.count(f"payment-{order.reference}:start_charge") == 1
    assert not any(key.endswith(":refund") for key in keys)
    waited = [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in history.events
        if e.HasField("timer_started_event_attributes")
    ]
    assert waited == [timedelta(minutes=15)]


async def test_payment_webhook_before_the_workflow_waits_still_counts(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services)
    notice = PaymentNotice("mpesa", "QK12ABC", order.total)
    async with make_worker(skipping.client, task_queue, activities):
        # Started and signalled in one call: the webhook is in before the first step runs.
        handle = await skipping.client.start_workflow(
            OrderFulfilmentWorkflow.run,
            FulfilmentInput(order.reference, payment_method="MPESA"),
            id=order_workflow_id(order.reference),
            task_queue=task_queue,
            start_signal="payment_received",
            start_signal_args=[notice],
        )
        status = await until_stage(handle, Stage.IN_WAVE)
        assert status.paid
        await handle.signal(OrderFulfilmentWorkflow.cancel, "customer")
        result = await handle.result()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.CUSTOMER)
    keys = await effects(services)
    assert f"payment-{order.reference}:start_charge" not in keys  # paid already: no charge
    assert keys.count(f"order-{order.reference}:refund") == 1
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED


async def test_a_short_payment_fails_and_what_came_is_refunded(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services)
    short = Money(order.total.amount - Decimal(1), order.total.currency)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_method="MPESA"
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        await handle.signal(
            OrderFulfilmentWorkflow.payment_received, PaymentNotice("mpesa", "QK1", short)
        )
        result = await handle.result()

    assert result.cancel_reason is CancelReason.PAYMENT_FAILED
    refund = await activities_effect(services, f"order-{order.reference}:refund")
    assert refund["amount"] == str(short.amount)


async def activities_effect(services: Services, key: str) -> dict[str, object]:
    found = await SqlEffectLog(services.db, services.clock).recorded(key)
    assert found is not None, key
    return found


async def test_next_day_settlement_waits_for_the_day_to_close(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        for signal, args in (
            (OrderFulfilmentWorkflow.wave_picked, []),
            (OrderFulfilmentWorkflow.route_planned, [RoutePlanned("R-1")]),
            (OrderFulfilmentWorkflow.driver_assigned, [DriverAssigned("D-1")]),
            (OrderFulfilmentWorkflow.delivery_confirmed, [DeliveryConfirmed()]),
        ):
            await handle.signal(signal, *args)  # type: ignore[call-overload]
        await handle.result()
        day = services.clock.now().date()
        started = datetime.now(UTC)
        report = await skipping.client.execute_workflow(
            SettlementWorkflow.run,
            SettlementInput(day=day, wait_for_close=True),
            id=f"settlement-{day}",
            task_queue=task_queue,
        )
    assert report.orders == 1
    assert report.totals == (order.total,)
    assert datetime.now(UTC) - started < timedelta(minutes=1)  # a day passed, skipped


def _definition(*, broken: bool = False) -> ServiceDefinition:
    return ServiceDefinition(
        name="airtime",
        version=1,
        start="menu",
        states=(
            ServiceState(
                "menu",
                {"en": "Buy airtime?", "sw": "Nunua muda wa maongezi?"},
                {"1": "done", "2": "nowhere" if broken else "menu"},
                {"1": {"en": "Yes", "sw": "Ndiyo"}, "2": {"en": "Again", "sw": "Tena"}},
            ),
            ServiceState("done", {"en": "Done", "sw": "Imekamilika"}, end=True),
        ),
    )


async def test_a_sound_service_is_published_and_a_broken_one_is_refused(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    async with make_worker(skipping.client, task_queue, activities):
        published = await skipping.client.execute_workflow(
            ServiceCreationWorkflow.run,
            ServiceCreationInput(_definition(), operator="+2348030000002"),
            id="service-airtime-1",
            task_queue=task_queue,
        )
        refused = await skipping.client.execute_workflow(
            ServiceCreationWorkflow.run,
            ServiceCreationInput(_definition(broken=True)),
            id="service-airtime-1-broken",
            task_queue=task_queue,
        )
    assert published.published
    assert not refused.published
    assert refused.problems == ("state 'menu' key '2' goes to unknown 'nowhere'",)
    live = await ServiceRegistry(services.db, services.clock).version("airtime", 1)
    assert live is not None
    assert live.definition == _definition()
    assert live.published_by == "+2348030000002"
    from core.phone import Phone  # noqa: PLC0415

    assert any("airtime" in t for t in await texts_to(services, Phone("+2348030000002")))


class DiesAfterItsEffect:
    """The real order desk, except the first move to `packed` dies after committing its effect:
    what a worker killed between the database commit and telling Temporal looks like."""

    def __init__(self, real: SqlOrderDesk) -> None:
        self._real = real
        self.calls = 0

    async def snapshot(self, reference: str) -> OrderSnapshot:
        return await self._real.snapshot(reference)

    async def advance(self, reference: str, status: str, *, key: str) -> OrderSnapshot:
        moved = await self._real.advance(reference, status, key=key)
        if status == "packed":
            self.calls += 1
            if self.calls == 1:
                raise ConnectionResetError("worker lost after the commit")
        return moved

    async def cancel_and_release(
        self, reference: str, *, reason: str | None, key: str
    ) -> OrderSnapshot:
        return await self._real.cancel_and_release(reference, reason=reason, key=key)


async def test_an_activity_retried_after_its_effect_has_no_second_effect(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    effects_log = SqlEffectLog(services.db, services.clock)
    desk = DiesAfterItsEffect(SqlOrderDesk(services.orders, effects_log))
    ports = dataclasses.replace(activities.ports, orders=desk)
    order = await place(services)
    async with make_worker(skipping.client, task_queue, FulfilmentActivities(ports)):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await until_stage(handle, Stage.PICKED)
    assert desk.calls == 2  # retried by Temporal
    async with services.db.transaction() as s:
        packed = [
            row.envelope["data"]["status"]
            for row in await s.execute(
                select(outbox).where(outbox.c.topic.like("%order_status_changed%"))
            )
        ]
    assert packed.count("packed") == 1


async def test_cancelling_the_workflow_itself_unwinds_the_order_first(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """`temporal workflow cancel` (an operator's last resort) still gives the stock back."""
    before = await available(services)
    order = await place(services)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    assert await available(services) == before
    # the customer is told who stopped it, not that a step failed or that they asked
    assert any(
        f"order {order.reference} is cancelled: our team stopped it." in text
        for text in await texts_to(services)
    )


async def test_an_order_whose_workflow_was_stopped_is_said_failed_not_awaiting_payment(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """Its workflow terminated (a failure nothing unwound) while it waited for the M-Pesa
    money: where the order is no longer comes from it. The status query said
    `awaiting_payment` for ever (My orders and GraphQL's stage with it); it says `failed`, and
    My orders shows the stored status. An order its workflow unwound is still `cancelled`."""
    order = await place(services)
    other = await place(services)
    fulfilment = TemporalFulfilment(skipping.client, task_queue)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_method="MPESA"
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        running = await fulfilment.status(order.reference)
        await handle.terminate(reason="stuck")
        stopped = await fulfilment.status(order.reference)
        await fulfilment.start_order(other.reference)
        await until_stage(fulfilment.order(other.reference), Stage.IN_WAVE)
        await fulfilment.cancel(other.reference)
        await fulfilment.order(other.reference).result()
        unwound = await fulfilment.status(other.reference)

    assert running.stage is Stage.AWAITING_PAYMENT
    assert stopped.stage is Stage.FAILED
    assert (unwound.stage, unwound.cancel_reason) == (Stage.CANCELLED, CancelReason.CUSTOMER)


async def test_money_for_an_order_that_stopped_waiting_is_reported_for_a_refund(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services)
    fulfilment = TemporalFulfilment(skipping.client, task_queue)
    async with make_worker(skipping.client, task_queue, activities):
        await fulfilment.start_order(order.reference, payment_window_seconds=60)
        await until_stage(fulfilment.order(order.reference), Stage.IN_WAVE)
        await fulfilment.cancel(order.reference)
        await fulfilment.order(order.reference).result()
        with pytest.raises(OrderNotWaitingError):
            await fulfilment.payment_received(
                order.reference, PaymentNotice("mpesa", "LATE1", order.total)
            )


async def test_word_of_the_pick_coming_after_the_goods_left_carries_the_order_on(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """The event relay was down overnight while the warehouse packed the order and a driver
    took it. When the signals came, the workflow's own step to packed met a dispatched order,
    failed as an impossible move, and the order was unwound: a cancel of goods on the road
    (refused in turn, so the run failed), the refund of anything paid, and no settlement."""
    order = await place(services)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        for status in (OrderStatus.PACKED, OrderStatus.DISPATCHED):  # the WMS, then the gig
            await services.orders.advance(order.reference, status)
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-7", 1))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1", "Musa"))
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed("4821"))
        result = await handle.result()

    assert result.stage is Stage.SETTLED
    assert (await services.orders.get(order.reference)).status is OrderStatus.DELIVERED


async def test_an_order_recalled_and_dispatched_again_is_on_its_way_again_once(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """Its route expired before the door (recalled: packed again); today's driver takes it: the
    customer is told it is on its way again — once, however often the dispatch is redelivered."""
    order = await place(services)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-7", 1))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1", "Musa"))
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await handle.signal(OrderFulfilmentWorkflow.status_changed, "packed")  # recalled
        await until_stage(handle, Stage.PICKED)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-8", 2))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-2", "Ada"))
        for _ in range(2):  # the dispatch, and its event redelivered
            await handle.signal(OrderFulfilmentWorkflow.status_changed, "dispatched")
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
        await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed("4821"))
        result = await handle.result()

    assert result.stage is Stage.SETTLED
    texts = await texts_to(services)
    assert [t for t in texts if "on its way" in t] == [
        f"OmniRoute: order {order.reference} is on its way to you.",
        f"OmniRoute: order {order.reference} is on its way to you.",
    ]


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_two_dispatches_heard_in_one_go_are_each_told_in_turn(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """Recalled, dispatched, recalled again and dispatched again while no worker ran: the four
    signals reach the run in one activation, and each dispatch is told once, in turn, under the
    keys the workflows-off path uses (only the latest was told)."""
    order = await place(services)
    uncached = Worker(  # no sticky queue: the next worker is handed the run's next task at once
        skipping.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities.all(),
        workflow_runner=SANDBOX,
        max_cached_workflows=0,
    )
    async with uncached:
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await handle.signal(OrderFulfilmentWorkflow.wave_picked)
        await handle.signal(OrderFulfilmentWorkflow.route_planned, RoutePlanned("R-7", 1))
        await handle.signal(OrderFulfilmentWorkflow.driver_assigned, DriverAssigned("D-1", "Musa"))
        await until_stage(handle, Stage.OUT_FOR_DELIVERY)
    for status in ("packed", "dispatched", "packed", "dispatched"):
        await handle.signal(OrderFulfilmentWorkflow.status_changed, status)
    async with make_worker(skipping.client, task_queue, activities):
        told = await on_its_way_texts(services, at_least=3)
        await handle.signal(OrderFulfilmentWorkflow.delivery_confirmed, DeliveryConfirmed("4821"))
        assert (await handle.result()).stage is Stage.SETTLED

    assert told == [f"OmniRoute: order {order.reference} is on its way to you."] * 3
    keys = [d.dedupe_key for d in await services.notifications.for_recipient(NGOZI)]
    assert sorted(k.split(":notify_customer:")[1] for k in keys if "out_for" in k) == [
        "out_for_delivery",
        "out_for_delivery:2",
        "out_for_delivery:3",
    ]


async def on_its_way_texts(services: Services, at_least: int, timeout: float = 30.0) -> list[str]:
    """Her "on its way" texts once there are `at_least` of them (a worker may be busy)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        told = [t for t in await texts_to(services) if "on its way" in t]
        if len(told) >= at_least or asyncio.get_running_loop().time() > deadline:
            return told
        await asyncio.sleep(0.1)
