"""Prove each real server from tests/support/servers.py really serves (and restarts)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from tests.support.servers import KafkaServer, PostgresServer, TemporalServer, ValkeyServer

pytestmark = pytest.mark.real


async def test_postgres_answers_select_and_creates_databases(
    postgres_server: PostgresServer,
) -> None:
    fresh_name = f"t_{uuid.uuid4().hex[:12]}"
    fresh_url = postgres_server.create_database(fresh_name)
    assert fresh_url.startswith("postgresql+asyncpg://")

    for url in (postgres_server.url, fresh_url):
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            assert await connection.fetchval("SELECT 1") == 1
            assert await connection.fetchval("SELECT current_database()") == url.rsplit("/", 1)[1]
        finally:
            await connection.close()


async def test_valkey_sets_gets_and_survives_a_restart(valkey_server: ValkeyServer) -> None:
    client = redis.Redis.from_url(valkey_server.url)
    try:
        await client.set("greeting", "habari")
        assert await client.get("greeting") == b"habari"
    finally:
        await client.aclose()

    valkey_server.stop()
    valkey_server.start()

    client = redis.Redis.from_url(valkey_server.url)
    try:
        assert await client.ping() is True
        assert await client.get("greeting") is None  # no persistence: restarts come back empty
    finally:
        await client.aclose()


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def test_kafka_produces_consumes_and_survives_a_restart(kafka_server: KafkaServer) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"  # auto-created on first produce
    await _produce(kafka_server.bootstrap, topic, b"order-1")

    # No group_id: Tansu holds a consumer group's first JoinGroup for ~5 s.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_server.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        message = await consumer.getone()
        assert message.value == b"order-1"
    finally:
        await consumer.stop()

    kafka_server.stop()
    kafka_server.start()

    await _produce(kafka_server.bootstrap, topic, b"order-2")


async def test_temporal_serves_the_default_namespace(temporal_server: TemporalServer) -> None:
    client = await Client.connect(temporal_server.address, namespace=temporal_server.namespace)
    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=temporal_server.namespace)
    )
    assert response.namespace_info.name == "default"
