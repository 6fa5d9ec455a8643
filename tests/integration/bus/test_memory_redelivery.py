"""The embedded bus (memory://) redelivers to a subscriber that failed, as Kafka would."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from temporalio.client import Client
from temporalio.service import RetryConfig

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.memory import MemoryEventBus
from core.bus.outbox import OutboxRelay
from core.bus.port import Subscriber, UndeliveredError
from core.clock import SteppedClock
from core.db import Database
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderPlaced, OrderStatusChanged
from tests.support.ports import free_port
from tests.support.servers import PostgresServer, _temporal_process

NGOZI = Phone("+2348030000001")


def an_order(key: str) -> PlaceOrder:
    return PlaceOrder(
        customer=NGOZI,
        region=RegionCode.LAGOS,
        lines=(CartLine("DRK-WATR-75", 1),),
        payment_method=PaymentMethod.ON_DELIVERY,
        idempotency_key=key,
    )


async def test_a_subscriber_that_failed_once_gets_the_event_again_and_the_others_once(
    services: Services, clock: SteppedClock
) -> None:
    """Starting an order's workflow failed once (Temporal restarting): it starts on the next
    pass, and the confirmation SMS, which had gone, is not sent a second time."""
    started: list[str] = []
    watched: list[tuple[str, str]] = []
    outage = ["temporal down"]

    async def start_workflow(envelope: EventEnvelope) -> None:
        if outage:
            raise ConnectionError(outage.pop())
        started.append(envelope.data["reference"])

    async def watch(envelope: EventEnvelope) -> None:
        watched.append((envelope.event_type, envelope.data["reference"]))

    services.bus.subscribe(OrderPlaced.topic, "test-workflows", start_workflow)
    services.bus.subscribe(OrderPlaced.topic, "test-watch", watch)
    services.bus.subscribe(OrderStatusChanged.topic, "test-watch", watch)

    order = await services.orders.place(an_order("flaky-subscriber"))
    await services.relay.drain()
    assert started == []
    assert await services.relay.unsent() == 1  # the OrderPlaced row waits for its subscriber

    clock.advance(1)  # its back-off
    await services.relay.drain()
    await services.relay.drain()

    assert started == [order.reference]
    assert watched == [("OrderPlaced", order.reference)]
    assert len(await services.notifications.for_recipient(NGOZI)) == 1
    assert await services.relay.unsent() == 0


async def test_a_failing_subscriber_holds_back_no_one_elses_events(
    services: Services, clock: SteppedClock
) -> None:
    """A subscriber failing on every event (a bug) leaves the others' events flowing, each
    once, however many of its events pile up (more than a relay's batch here)."""
    watched: list[str] = []

    async def broken(envelope: EventEnvelope) -> None:
        raise RuntimeError("bug")

    async def watch(envelope: EventEnvelope) -> None:
        watched.append(envelope.data["reference"])

    services.bus.subscribe(OrderPlaced.topic, "test-broken", broken)
    services.bus.subscribe(OrderPlaced.topic, "test-watch", watch)
    relay = OutboxRelay(services.db, services.bus, services.clock, batch_size=1)

    orders = [await services.orders.place(an_order(f"order-{n}")) for n in range(3)]
    await relay.drain()
    clock.advance(120)
    await relay.drain()

    assert watched == [o.reference for o in orders]
    assert await relay.unsent() == 3


async def test_an_event_a_subscriber_always_fails_on_is_set_aside_and_its_next_ones_flow(
    services: Services, clock: SteppedClock
) -> None:
    """A bug that trips on one status change must not hold back, for good, that order's later
    changes to the same subscriber (nor republish the row every minute for ever): after its
    attempts the event is set aside as a dead letter, counted, and the next change arrives."""
    seen: list[str] = []

    async def fussy(envelope: EventEnvelope) -> None:
        if envelope.data["status"] == "confirmed":
            raise KeyError("customer_texted")
        seen.append(envelope.data["status"])

    services.bus.subscribe(OrderStatusChanged.topic, "test-fussy", fussy)
    order = await services.orders.place(an_order("poison"))
    await services.orders.advance(order.reference, OrderStatus.CONFIRMED)
    await services.orders.advance(order.reference, OrderStatus.PICKING)

    for _ in range(services.settings.events_max_attempts):
        await services.relay.drain()
        clock.advance(120)  # past any back-off

    assert seen == ["picking"]
    assert services.bus.dead_letters == {(OrderStatusChanged.topic, "test-fussy"): 1}
    assert await services.relay.unsent() == 0


@pytest.mark.real
async def test_an_event_met_by_a_database_outage_is_not_set_aside_and_is_handled_once_back(
    postgres_server: PostgresServer, pg_database_url: str
) -> None:
    """The database a subscriber writes to restarts for longer than the event's retries: the
    event is not set aside as a dead letter (lost to the subscriber), it is delivered again
    until the database answers."""
    db = Database(pg_database_url)
    bus = MemoryEventBus(max_attempts=2)
    handled: list[uuid.UUID] = []

    async def handler(envelope: EventEnvelope) -> None:
        async with db.transaction() as s:
            await s.execute(text("SELECT 1"))
        handled.append(envelope.event_id)

    bus.subscribe(OrderStatusChanged.topic, "test", handler)
    event = OrderStatusChanged(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        aggregate_id="OUTAGE1",
        reference="OUTAGE1",
        customer=str(NGOZI),
        previous="placed",
        status="confirmed",
    ).envelope()
    try:
        postgres_server.stop()
        try:
            for _ in range(4):  # twice the attempts a poison event is given
                with pytest.raises(UndeliveredError):
                    await bus.publish([event])
        finally:
            postgres_server.start()
        assert bus.dead_letters == {}
        await bus.publish([event])
    finally:
        await db.dispose()
    assert handled == [event.event_id]


@pytest.mark.real
async def test_an_event_met_by_a_temporal_restart_is_not_set_aside_and_is_handled_once_back(
    tmp_path: Path,
) -> None:
    """Temporal restarts (an upgrade, a crashed frontend) for longer than the retries of the
    subscriber that starts an order's workflow: the order's event must not be set aside as a
    dead letter, or the order is never fulfilled; it waits for Temporal to answer again."""
    temporal = _temporal_process(tmp_path / "temporal", free_port(), "default")
    temporal.start()
    try:
        client = await Client.connect(
            f"127.0.0.1:{temporal.port}", retry_config=RetryConfig(max_retries=1)
        )
        bus = MemoryEventBus(max_attempts=2)
        handled: list[uuid.UUID] = []

        async def start_workflow(envelope: EventEnvelope) -> None:
            await client.count_workflows()
            handled.append(envelope.event_id)

        bus.subscribe(OrderStatusChanged.topic, "test", start_workflow)
        event = OrderStatusChanged(
            event_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            aggregate_id="OUTAGE2",
            reference="OUTAGE2",
            customer=str(NGOZI),
            previous="placed",
            status="confirmed",
        ).envelope()
        temporal.stop()
        for _ in range(4):  # twice the attempts a poison event is given
            with pytest.raises(UndeliveredError):
                await bus.publish([event])
        assert bus.dead_letters == {}
        temporal.start()
        await bus.publish([event])
    finally:
        temporal.stop()
    assert handled == [event.event_id]


async def test_one_event_published_twice_at_once_reaches_each_subscriber_once() -> None:
    """Two relays publishing the same outbox row at once (a claim that ran out while the first
    was still in flight) must not send the order's SMS twice, nor fail either relay."""
    bus = MemoryEventBus()
    sent: list[tuple[str, str]] = []

    def subscriber(group: str) -> Subscriber:
        async def handle(envelope: EventEnvelope) -> None:
            await asyncio.sleep(0)  # a database write: the other publish runs meanwhile
            sent.append((group, envelope.key))

        return handle

    bus.subscribe(OrderPlaced.topic, "sms", subscriber("sms"))
    bus.subscribe(OrderPlaced.topic, "ledger", subscriber("ledger"))
    placed = EventEnvelope(
        event_id=uuid.uuid4(),
        event_type=OrderPlaced.event_type(),
        version=OrderPlaced.version,
        topic=OrderPlaced.topic,
        key="W62ACJ",
        occurred_at=datetime(2026, 12, 5, 9, tzinfo=UTC),
        data={"reference": "W62ACJ"},
    )

    await asyncio.gather(bus.publish([placed]), bus.publish([placed]), bus.publish([placed]))

    assert sorted(sent) == [("ledger", "W62ACJ"), ("sms", "W62ACJ")]
