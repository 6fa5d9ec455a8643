"""Ngozi's journey on PostgreSQL, Valkey and Kafka: the production shape, started by the tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from core.app.bootstrap import Services, build_services
from core.app.demo import load_demo
from core.app.server import create_app
from core.clock import SystemClock
from core.config import Settings
from engines.orders.events import OrderPlaced
from tests.support.kafka import read_topic
from tests.support.phone import UssdPhone
from tests.support.servers import KafkaServer, PostgresServer, ValkeyServer

pytestmark = pytest.mark.real
_numbers = itertools.count(1)


@pytest.fixture
async def real_services(
    postgres_server: PostgresServer,
    postgres_template: str,
    valkey_server: ValkeyServer,
    kafka_server: KafkaServer,
) -> AsyncIterator[Services]:
    database_url = postgres_server.create_database(
        f"journey{next(_numbers)}", template=postgres_template
    )
    settings = Settings(
        env="test",
        database_url=database_url,
        session_url=valkey_server.url,
        events_url=kafka_server.url,
        _env_file=None,
    )
    services = build_services(settings, clock=SystemClock())
    await load_demo(services.db, SystemClock().now())
    yield services
    await services.close()  # the app's cleanup closes it too; closing is idempotent


@pytest.fixture
async def real_client(real_services: Services) -> AsyncIterator[TestClient[object, object]]:
    app = create_app(real_services.settings, build=lambda _s: real_services)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_an_order_placed_over_ussd_lands_in_postgres_valkey_and_kafka(
    real_services: Services,
    real_client: TestClient[object, object],
    valkey_server: ValkeyServer,
    kafka_server: KafkaServer,
) -> None:
    ngozi = UssdPhone(real_client, "+2348030000001")
    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.choose("Indomie Chicken")
    await ngozi.press("3")

    valkey = redis.Redis.from_url(valkey_server.url)
    try:
        assert await valkey.exists(f"omniroute:s:{ngozi.session_key}") == 1
    finally:
        await valkey.aclose()

    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"
    reference = done.body.split()[1]

    async with real_services.db.transaction() as s:
        row = (
            await s.execute(
                text("SELECT total, status FROM orders WHERE reference = :r"), {"r": reference}
            )
        ).one()
    assert (str(row.total), row.status) == ("26993.2500", "placed")

    await real_services.relay.drain()
    events = await read_topic(kafka_server.bootstrap, OrderPlaced.topic, timeout=10)
    assert [e.data["total"] for e in events if e.data["reference"] == reference] == ["26993.25"]


async def test_a_session_store_restart_mid_session_is_polite_and_keeps_the_cart(
    real_client: TestClient[object, object], valkey_server: ValkeyServer
) -> None:
    ngozi = UssdPhone(real_client, "+2348030000002")
    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.choose("Indomie Chicken")
    await ngozi.press("2")

    valkey_server.stop()
    try:
        down = await ngozi.press("2")  # UssdPhone asserts a 200 with CON/END
        assert down.kind == "END"
        assert "not available right now" in down.body
    finally:
        valkey_server.start()

    again = await ngozi.dial()
    assert "Your cart has 2 items" in again.body
    assert again.key_for("Continue with cart")


async def test_a_session_store_outage_shows_on_metrics_though_every_answer_is_a_200(
    real_client: TestClient[object, object], valkey_server: ValkeyServer
) -> None:
    """The apology is a 200 (Africa's Talking shows anything else as a network error): the
    operators' dashboard needs the failed turns counted to see the outage."""
    ngozi = UssdPhone(real_client, "+2348030000003")
    await ngozi.dial()
    valkey_server.stop()
    try:
        down = await ngozi.press("1")  # UssdPhone asserts a 200 with CON/END
    finally:
        valkey_server.start()
    assert down.kind == "END"

    scraped = await real_client.get("/metrics")
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(await scraped.text())
        for sample in family.samples
    }
    assert found[("omniroute_pipeline_failures_total", (("kind", "ussd"),))] == 1
    answered = (("method", "POST"), ("route", "/channels/africastalking/ussd"), ("status", "200"))
    assert found[("omniroute_http_requests_total", answered)] == 2


async def test_readyz_names_the_backend_that_is_down(
    real_client: TestClient[object, object], valkey_server: ValkeyServer
) -> None:
    ready = await real_client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ok",
        "checks": {"database": "up", "sessions": "up", "events": "up"},
    }
    valkey_server.stop()
    try:
        down = await real_client.get("/readyz")
        body = await down.json()
    finally:
        valkey_server.start()
    assert down.status == 503
    assert body["checks"]["sessions"] == "down"
    assert body["checks"]["database"] == "up"
