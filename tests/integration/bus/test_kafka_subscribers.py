"""A subscriber of the Kafka bus (a consumer group) receives what the outbox publishes."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from core.bus import EventEnvelope
from core.bus.kafka import KafkaEventBus
from core.db import Database
from engines.orders.events import OrderStatusChanged
from tests.support.servers import KafkaServer, PostgresServer

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


async def test_a_from_end_group_skips_the_history_on_its_first_start_and_keeps_its_place(
    kafka_server: KafkaServer,
) -> None:
    """/metrics' payment-metrics group: its first deploy must not count every payment the topic
    retains, and what is published while its gateways restart must still be counted."""
    topic = OrderStatusChanged.topic
    group = f"from-end-{uuid.uuid4().hex[:8]}"
    bus = KafkaEventBus(f"kafka://{kafka_server.bootstrap}?idempotent=false")
    tag = uuid.uuid4().hex[:5].upper()
    got: list[str] = []
    heard = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        if str(envelope.data["reference"]).endswith(tag):
            got.append(str(envelope.data["reference"]))
            heard.set()

    await bus.publish([status_event(f"OLD{tag}")])  # before the group's first deploy
    bus.subscribe(topic, group, handler, from_end=True)
    await bus.start()
    try:
        # Its place is kept from the first join, before any event reached it: a gateway
        # restarted now resumes there, not at the end again (losing what came meanwhile).
        member = AIOKafkaConsumer(bootstrap_servers=kafka_server.bootstrap, group_id=group)
        await member.start()
        try:
            await member.topics()
            partitions = [TopicPartition(topic, p) for p in member.partitions_for_topic(topic)]
            ends = await member.end_offsets(partitions)
            assert {p: await member.committed(p) for p in partitions} == ends
        finally:
            await member.stop()
        await bus.publish([status_event(f"NEW{tag}")])
        await asyncio.wait_for(heard.wait(), 30)
    finally:
        await bus.close()
    assert got == [f"NEW{tag}"]


def _closed_port() -> int:
    """A local port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_bus_is_ready_while_any_bootstrap_broker_answers(
    kafka_server: KafkaServer,
) -> None:
    """One broker of three restarting (a rolling upgrade) must not take every gateway out of
    its load balancer: /readyz reports events up while the cluster is reachable."""
    down = f"127.0.0.1:{_closed_port()}"
    first_down = KafkaEventBus(f"kafka://{down},{kafka_server.bootstrap}?idempotent=false")
    all_down = KafkaEventBus(f"kafka://{down}?idempotent=false")
    assert await first_down.ping() is True
    assert await all_down.ping() is False


async def test_a_hung_broker_is_not_ready_though_its_port_accepts(
    kafka_server: KafkaServer,
) -> None:
    """A broker that is stopped or stuck still has its connections accepted by the kernel:
    /readyz must not call the events backend up because a TCP handshake completed."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # the kernel completes handshakes; nobody reads or answers
    try:
        port = hung.getsockname()[1]
        assert await KafkaEventBus(f"kafka://127.0.0.1:{port}").ping() is False
        alive = KafkaEventBus(f"kafka://127.0.0.1:{port},{kafka_server.bootstrap}")
        assert await alive.ping() is True
    finally:
        hung.close()


async def _read_records(
    bootstrap: str, topic: str, count: int, timeout: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic`, headers and all, as an operator's tool reads them."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=250)
                for records in batches.values():
                    found.extend(records)
    finally:
        await consumer.stop()
    return found


async def test_a_poison_event_goes_to_the_dead_letter_topic_and_the_partition_moves_on(
    kafka_server: KafkaServer,
) -> None:
    """A message that is not an event at all, and one that a handler bug fails on every time,
    no longer stall the group's partition for good: each is tried, set aside in `<topic>.dlq`
    with why and whose, counted, and committed; the order's next update is handled, and a
    restarted group does not get them again."""
    topic = f"omniroute.test.poison-{uuid.uuid4().hex[:8]}.v1"
    group = f"test-{uuid.uuid4().hex[:8]}"
    url = f"kafka://{kafka_server.bootstrap}?idempotent=false"
    reference = f"P{uuid.uuid4().hex[:5]}".upper()
    poison, good = (status_event(reference).model_copy(update={"topic": topic}) for _ in range(2))
    tries: list[uuid.UUID] = []
    moved_on = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        tries.append(envelope.event_id)
        if envelope.event_id == poison.event_id:
            raise KeyError("customer_texted")  # the bug: a field this release expects
        moved_on.set()

    raw = AIOKafkaProducer(bootstrap_servers=kafka_server.bootstrap)
    await raw.start()
    try:  # all three under the order's key: one partition, in this order
        await raw.send_and_wait(topic, b"{not an event", key=reference.encode())
    finally:
        await raw.stop()
    bus = KafkaEventBus(url, max_attempts=3, retry_backoff_seconds=0.05)
    await bus.publish([poison, good])
    bus.subscribe(topic, group, handler)
    await bus.start()
    try:
        await asyncio.wait_for(moved_on.wait(), 30)
    finally:
        await bus.close()

    assert tries == [poison.event_id] * 3 + [good.event_id]
    assert bus.dead_letters == {(topic, group): 2}
    garbage, dead = await _read_records(kafka_server.bootstrap, f"{topic}.dlq", 2)
    assert garbage.value == b"{not an event"
    assert dict(garbage.headers)["dlq.error"].startswith(b"ValidationError")
    assert EventEnvelope.from_bytes(dead.value or b"") == poison
    assert dead.key == reference.encode()
    headers = dict(dead.headers)
    assert headers["dlq.error"] == b"KeyError: 'customer_texted'"
    assert headers["dlq.group"] == group.encode()
    assert headers["dlq.topic"] == topic.encode()
    assert headers["dlq.attempts"] == b"3"
    assert headers["event_type"] == b"OrderStatusChanged"

    # Committed past all three: a restarted group does not get the dead letters again.
    member = AIOKafkaConsumer(bootstrap_servers=kafka_server.bootstrap, group_id=group)
    await member.start()
    try:
        partition = TopicPartition(topic, int(headers["dlq.partition"]))
        assert await member.committed(partition) == 3
    finally:
        await member.stop()


async def test_a_subscribed_topic_has_its_dead_letter_topic_before_any_event_fails(
    kafka_server: KafkaServer,
) -> None:
    """On a broker with topic auto-creation off, the first dead letter would be refused and its
    partition would stall: the bus creates `<topic>.dlq` when it starts, partitioned as its
    source (Tansu would auto-create it with its default of 4), and a second start is fine."""
    topic = f"omniroute.test.dlq-{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        for _ in range(2):  # the second start finds it there
            bus = KafkaEventBus(f"kafka://{kafka_server.bootstrap}?idempotent=false")

            async def ignore(envelope: EventEnvelope) -> None:
                return None

            bus.subscribe(topic, f"test-{uuid.uuid4().hex[:8]}", ignore)
            await bus.start()
            try:
                async with asyncio.timeout(30):
                    # Listing topics never creates one (a describe would, on Tansu).
                    while True:
                        if f"{topic}.dlq" in await admin.list_topics():
                            break
                        await asyncio.sleep(0.1)
            finally:
                await bus.close()
        (described,) = await admin.describe_topics([f"{topic}.dlq"])
    finally:
        await admin.close()
    assert described["error_code"] == 0
    assert len(described["partitions"]) == 3


async def test_an_event_met_by_a_database_outage_waits_for_it_and_is_not_dead_lettered(
    kafka_server: KafkaServer, postgres_server: PostgresServer, pg_database_url: str
) -> None:
    """PostgreSQL fails over (or restarts) for longer than a handler's retries last. Every
    event consumed meanwhile failed as often as a poison one and went to `<topic>.dlq`, lost
    to its group: an order placed then never had its workflow started or its SMS sent. A
    handler failing because a backend cannot be reached is now tried again until it can, and
    the event is handled once the database is back."""
    topic = f"omniroute.test.outage-{uuid.uuid4().hex[:8]}.v1"
    group = f"test-{uuid.uuid4().hex[:8]}"
    event = status_event(f"D{uuid.uuid4().hex[:5]}".upper()).model_copy(update={"topic": topic})
    db = Database(pg_database_url)
    failures: list[str] = []
    handled = asyncio.Event()

    async def handler(envelope: EventEnvelope) -> None:
        try:
            async with db.transaction() as s:
                await s.execute(text("SELECT 1"))
        except Exception as exc:
            failures.append(type(exc).__name__)
            raise
        handled.set()

    bus = KafkaEventBus(
        f"kafka://{kafka_server.bootstrap}?idempotent=false",
        max_attempts=2,
        retry_backoff_seconds=0.05,
    )
    bus.subscribe(topic, group, handler)
    await bus.start()
    try:
        postgres_server.stop()
        try:
            await bus.publish([event])
            async with asyncio.timeout(30):
                # twice the attempts a poison event is given, or set aside
                while True:
                    if len(failures) >= 4 or bus.dead_letters:
                        break
                    await asyncio.sleep(0.05)
        finally:
            postgres_server.start()
        assert bus.dead_letters == {}
        await asyncio.wait_for(handled.wait(), 40)
    finally:
        await bus.close()
        await db.dispose()
