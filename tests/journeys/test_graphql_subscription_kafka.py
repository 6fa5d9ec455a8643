"""The live order updates on the production event backend: the status change travels the outbox,
the Kafka-protocol broker (Tansu here) and the gateway's consumer group to the subscription."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
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
    task = asyncio.create_task(follow_order(client, headers, reference, 1))
    await wait_until_watching(client)
    await services.orders.advance(reference, OrderStatus.CONFIRMED)
    received = await asyncio.wait_for(task, timeout=60)
    assert [(u["previousStatus"], u["status"]) for u in received] == [("PLACED", "CONFIRMED")]
