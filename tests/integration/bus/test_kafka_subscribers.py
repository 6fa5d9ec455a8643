"""A subscriber of the Kafka bus (a consumer group) receives what the outbox publishes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from core.bus import EventEnvelope
from core.bus.kafka import KafkaEventBus
from engines.orders.events import OrderStatusChanged
from tests.support.ports import free_port
from tests.support.servers import KafkaServer

pytestmark = pytest.mark.real


def status_event(reference: str) -> EventEnvelope:
    event = OrderStatusChanged(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        aggregate_id=reference,
        reference=reference,
        customer="+2348030000001",
        previous="placed",
        status="confirmed",
    )
    return event.envelope()


async def test_a_group_subscriber_receives_published_events(kafka_server: KafkaServer) -> None:
    url = f"kafka://{kafka_server.bootstrap}?idempotent=false"
    bus = KafkaEventBus(url)
    got: asyncio.Queue[EventEnvelope] = asyncio.Queue()

    async def handler(envelope: EventEnvelope) -> None:
        await got.put(envelope)

    mine = {f"A{uuid.uuid4().hex[:5]}".upper(), f"B{uuid.uuid4().hex[:5]}".upper()}
    first_ref, second_ref = sorted(mine)
    seen: list[str] = []

    async def until(reference: str) -> None:
        # The broker is shared by the session's tests: other orders' events pass by too.
        while reference not in seen:
            envelope = await got.get()
            if envelope.data["reference"] in mine:
                seen.append(envelope.data["reference"])

    bus.subscribe(OrderStatusChanged.topic, f"test-{uuid.uuid4().hex[:8]}", handler)
    await bus.publish([status_event(first_ref)])  # the topic exists before the consumer starts
    await bus.start()
    try:
        await asyncio.wait_for(until(first_ref), 30)
        await bus.publish([status_event(second_ref)])  # and one published while it listens
        await asyncio.wait_for(until(second_ref), 30)
    finally:
        await bus.close()
    assert seen == [first_ref, second_ref]


async def test_a_live_subscriber_gets_what_is_published_after_it_starts_not_the_history(
    kafka_server: KafkaServer,
) -> None:
    """A gateway replica's GraphQL fan-out group: a restart must not replay the whole topic."""
    bus = KafkaEventBus(f"kafka://{kafka_server.bootstrap}?idempotent=false")
    tag = uuid.uuid4().hex[:5].upper()
    history = f"OLD{tag}"
    got: list[str] = []
    heard = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        if str(envelope.data["reference"]).endswith(tag):
            got.append(str(envelope.data["reference"]))
            heard.set()

    await bus.publish([status_event(history)])  # before the subscriber exists
    bus.subscribe(OrderStatusChanged.topic, f"live-{uuid.uuid4().hex[:8]}", handler, live=True)
    await bus.start()
    try:
        # `start` returns once the group listens: what is published next is heard, first time.
        await bus.publish([status_event(f"NEW{tag}")])
        await asyncio.wait_for(heard.wait(), 30)
    finally:
        await bus.close()
    assert got == [f"NEW{tag}"]


async def test_the_bus_is_up_while_any_bootstrap_broker_answers(kafka_server: KafkaServer) -> None:
    """One broker of several down (a rolling restart) must not take every gateway out of
    /readyz: the client reaches the cluster through the others."""
    down = f"127.0.0.1:{free_port()}"
    bus = KafkaEventBus(f"kafka://{down},{kafka_server.bootstrap}?idempotent=false")
    try:
        assert await bus.ping()
    finally:
        await bus.close()
    nothing = KafkaEventBus(f"kafka://{down}?idempotent=false")
    assert not await nothing.ping()
    await nothing.close()
