"""The live order updates on the production event backend: the status change travels the outbox,
the Kafka-protocol broker (Tansu here) and the gateway's consumer group to the subscription."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.bus.kafka import KafkaEventBus
from core.config import Settings
from engines.orders import OrderStatus
from tests.support.graphql import bearer, follow_order, place_for, wait_until_watching
from tests.support.servers import KafkaServer

pytestmark = pytest.mark.real

NGOZI = "+2348030000001"


@pytest.fixture
def settings(database_url: str, kafka_server: KafkaServer) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        events_url=f"{kafka_server.url}",
        _env_file=None,
    )


async def test_an_order_update_reaches_the_app_through_kafka(
    client: TestClient[Any, Any], services: Services
) -> None:
    reference = await place_for(services, NGOZI, "k-kafka-0001")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 2))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    received = await asyncio.wait_for(task, timeout=60)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CONFIRMED"),
    ]


async def test_a_status_published_while_the_live_consumer_reconnects_reaches_the_app(
    client: TestClient[Any, Any], services: Services
) -> None:
    """The gateway's live consumer lost its connection and started again, at the topic's end:
    the order was confirmed and cancelled while it was away. Ngozi's app still gets the
    cancellation, once the consumer has joined again."""
    bus = services.bus
    assert isinstance(bus, KafkaEventBus)
    reference = await place_for(services, NGOZI, "k-kafka-0002")
    headers = bearer(services.settings, NGOZI, "customer")
    task = asyncio.create_task(follow_order(client, headers, reference, 2))
    await wait_until_watching(client)

    (consumer,) = [t for t in bus._consumers if t.get_name().startswith("kafka:graphql-")]
    consumer.cancel()  # the consumer is gone (its connection lost) ...
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    await services.orders.advance(reference, OrderStatus.CANCELLED)
    await services.relay.drain()  # ... while these reach the topic

    (topic, group, handler, live, on_join) = next(
        s for s in bus._subscriptions if s[1].startswith("graphql-")
    )
    joined = asyncio.Event()
    bus._consumers.append(  # ... and starts again, at the topic's end, as its loop would
        asyncio.create_task(
            bus._consume(topic, group, handler, live=live, ready=joined, on_join=on_join)
        )
    )
    received = await asyncio.wait_for(task, timeout=60)
    assert [(u["previousStatus"], u["status"]) for u in received] == [
        ("PLACED", "PLACED"),
        ("PLACED", "CANCELLED"),
    ]
