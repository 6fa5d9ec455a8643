"""A subscriber of the Kafka bus (a consumer group) receives what the outbox publishes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from core.bus import EventEnvelope
from core.bus.kafka import KafkaEventBus
from engines.orders.events import OrderStatusChanged
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

    bus.subscribe(OrderStatusChanged.topic, f"test-{uuid.uuid4().hex[:8]}", handler)
    await bus.publish([status_event("AAA111")])  # the topic exists before the consumer starts
    await bus.start()
    try:
        first = await asyncio.wait_for(got.get(), 30)
        await bus.publish([status_event("BBB222")])
        second = await asyncio.wait_for(got.get(), 30)
    finally:
        await bus.close()
    assert [first.data["reference"], second.data["reference"]] == ["AAA111", "BBB222"]
