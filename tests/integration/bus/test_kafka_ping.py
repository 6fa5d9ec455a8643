"""Readiness of the Kafka bus (`/readyz`'s "events"): up while the clients can reach a broker."""

from __future__ import annotations

import pytest

from core.bus.kafka import KafkaEventBus
from tests.support.ports import free_port
from tests.support.servers import KafkaServer

pytestmark = pytest.mark.real


async def test_the_bus_is_up_while_any_bootstrap_broker_answers(
    kafka_server: KafkaServer,
) -> None:
    """The first broker of the list restarting must not make every gateway unready."""
    restarting = f"127.0.0.1:{free_port()}"
    bus = KafkaEventBus(f"kafka://{restarting},{kafka_server.bootstrap}")
    try:
        assert await bus.ping()
    finally:
        await bus.close()


async def test_the_bus_is_down_when_no_bootstrap_broker_answers() -> None:
    bus = KafkaEventBus(f"kafka://127.0.0.1:{free_port()},127.0.0.1:{free_port()}")
    try:
        assert not await bus.ping()
    finally:
        await bus.close()
