"""Every order's events leave through the outbox: once, in order, even across broker outages."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.app.bootstrap import Services, build_services
from core.bus import EventEnvelope
from core.bus.inbox import handle_once
from core.bus.memory import MemoryEventBus
from core.bus.outbox import OutboxRelay, PublishFailedError, record
from core.bus.tables import outbox, outbox_sequences
from core.clock import Clock, SystemClock
from core.config import Settings
from core.ids import RandomIds
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderPlaced, OrderStatusChanged
from tests.support.databases import migrated_sqlite
from tests.support.demo_template import seed_demo
from tests.support.kafka import read_topic
from tests.support.servers import KafkaServer, PostgresServer

NGOZI = Phone("+2348030000001")


async def make_services(database_url: str, events_url: str) -> Services:
    clock = SystemClock()
    settings = Settings(
        env="test", database_url=database_url, events_url=events_url, _env_file=None
    )
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    return built


@pytest.fixture
async def services(any_database_url: str, any_events_url: str) -> AsyncIterator[Services]:
    built = await make_services(any_database_url, any_events_url)
    yield built
    await built.close()


def an_order(key: str, quantity: int = 1) -> PlaceOrder:
    return PlaceOrder(
        customer=NGOZI,
        region=RegionCode.LAGOS,
        lines=(CartLine("DRK-WATR-75", quantity),),
        payment_method=PaymentMethod.ON_DELIVERY,
        idempotency_key=key,
    )


async def published(services: Services, topic: str, until: int = 10**9) -> list[EventEnvelope]:
    """What a consumer of `topic` sees: the in-process bus or the real broker."""
    url = services.settings.events_url
    if url.startswith("kafka://"):
        return await read_topic(url.removeprefix("kafka://").split("?")[0], topic, until=until)
    raise AssertionError("use a subscriber for the memory bus")


async def test_a_redelivered_event_has_no_second_effect(services: Services) -> None:
    effects: list[str] = []

    async def count_order(_s: AsyncSession, envelope: EventEnvelope) -> None:
        effects.append(envelope.data["reference"])

    async def consume(envelope: EventEnvelope) -> None:
        await handle_once(services.db, services.clock, "test-counter", envelope, count_order)

    order = await services.orders.place(an_order("once"))
    if services.settings.events_url == "memory://":
        services.bus.subscribe(OrderPlaced.topic, "test-counter", consume)
        assert await services.relay.drain() == 2
        # A crash after publishing but before marking sent: the relay publishes again.
        async with services.db.transaction() as s:
            await s.execute(update(outbox).values(sent_at=None))
        assert await services.relay.drain() == 2
    else:
        assert await services.relay.drain() == 2
        async with services.db.transaction() as s:
            await s.execute(update(outbox).values(sent_at=None))
        assert await services.relay.drain() == 2
        envelopes = await published(services, OrderPlaced.topic)
        ours = [e for e in envelopes if e.data["reference"] == order.reference]
        assert len(ours) == 2  # at least once on the wire...
        for envelope in ours:
            await consume(envelope)
    assert effects == [order.reference]  # ...exactly once in effect


async def test_one_orders_status_changes_arrive_in_the_order_they_happened(
    services: Services,
) -> None:
    seen: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        seen.append(envelope)

    order = await services.orders.place(an_order("lifecycle"))
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        await services.orders.advance(order.reference, status)
    if services.settings.events_url == "memory://":
        services.bus.subscribe(OrderStatusChanged.topic, "test", collect)
        await services.relay.drain()
    else:
        await services.relay.drain()
        seen = await published(services, OrderStatusChanged.topic)
    # What a consumer applies: first delivery of each event id (retries may repeat one).
    first_seen = {e.event_id: e for e in reversed(seen)}
    applied = [e for e in seen if first_seen.get(e.event_id) is e]
    ours = [e.data["status"] for e in applied if e.data["reference"] == order.reference]
    assert ours == ["confirmed", "picking", "packed"]


async def test_a_drain_waits_for_the_batch_the_relay_loop_is_publishing(
    any_database_url: str,
) -> None:
    """What tests and shutdown rely on: once `drain` returns, every subscriber has run. On
    PostgreSQL a drain used to skip the rows the background loop had locked and return at once."""
    services = await make_services(any_database_url, "memory://")
    entered, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def slow(envelope: EventEnvelope) -> None:
        entered.set()
        await release.wait()
        handled.append(str(envelope.event_id))

    try:
        services.bus.subscribe(OrderPlaced.topic, "slow", slow)
        await services.orders.place(an_order("in-flight"))
        loop_batch = asyncio.create_task(services.relay.relay_once())
        await asyncio.wait_for(entered.wait(), 10)
        drain = asyncio.create_task(services.relay.drain())
        await asyncio.sleep(0.2)
        assert not drain.done()  # the loop's batch is still with its subscriber
        release.set()
        published_by_loop, published_by_drain = await asyncio.wait_for(
            asyncio.gather(loop_batch, drain), 10
        )
    finally:
        await services.close()
    assert (published_by_loop, published_by_drain) == (2, 0)
    assert len(handled) == len(set(handled)) == 1  # the order's event, handled once


async def test_a_batch_in_flight_is_claimed_another_relay_leaves_it_alone(
    any_database_url: str,
) -> None:
    """Two gateway replicas relay the same outbox: while one publishes a batch (its subscriber
    still working), the other finds nothing to publish, so nothing is published twice."""
    services = await make_services(any_database_url, "memory://")
    entered, release = asyncio.Event(), asyncio.Event()
    other_bus = MemoryEventBus()
    seen_by_other: list[str] = []

    async def slow(_envelope: EventEnvelope) -> None:
        entered.set()
        await release.wait()

    async def record_other(envelope: EventEnvelope) -> None:
        seen_by_other.append(str(envelope.event_id))

    other_bus.subscribe(OrderPlaced.topic, "other", record_other)
    other = OutboxRelay(services.db, other_bus, services.clock)
    try:
        services.bus.subscribe(OrderPlaced.topic, "slow", slow)
        await services.orders.place(an_order("claimed"))
        in_flight = asyncio.create_task(services.relay.relay_once())
        await asyncio.wait_for(entered.wait(), 10)

        assert await other.relay_once() == 0

        release.set()
        assert await asyncio.wait_for(in_flight, 10) == 2
        assert await other.relay_once() == 0
        assert await services.relay.unsent() == 0
    finally:
        release.set()
        await services.close()
    assert seen_by_other == []


@pytest.mark.real
async def test_the_relay_holds_no_transaction_while_its_subscribers_run(
    pg_database_url: str, postgres_server: PostgresServer
) -> None:
    """A slow subscriber of the in-process bus (or a slow broker) keeps no transaction open,
    no row locked and no pooled connection busy on PostgreSQL while the relay waits for it."""
    services = await make_services(pg_database_url, "memory://")
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(_envelope: EventEnvelope) -> None:
        entered.set()
        await release.wait()

    watcher = await asyncpg.connect(postgres_server.dsn)
    try:
        services.bus.subscribe(OrderPlaced.topic, "slow", slow)
        await services.orders.place(an_order("no-long-transaction"))
        in_flight = asyncio.create_task(services.relay.relay_once())
        await asyncio.wait_for(entered.wait(), 10)

        states = await watcher.fetch(
            "SELECT state FROM pg_stat_activity WHERE datname = $1",
            pg_database_url.rsplit("/", 1)[1],
        )
        assert "idle in transaction" not in {r["state"] for r in states}
        assert "active" not in {r["state"] for r in states}

        release.set()
        assert await asyncio.wait_for(in_flight, 10) == 2
    finally:
        release.set()
        await watcher.close()
        await services.close()


async def test_a_claim_runs_out_when_its_relay_died_and_a_stopped_relay_gives_its_batch_back(
    any_database_url: str,
) -> None:
    services = await make_services(any_database_url, "memory://")
    handled: list[str] = []
    entered, never = asyncio.Event(), asyncio.Event()

    async def stuck(envelope: EventEnvelope) -> None:
        entered.set()
        await never.wait()

    async def count(envelope: EventEnvelope) -> None:
        handled.append(envelope.event_type)

    try:
        await services.orders.place(an_order("died"))
        # A replica claims the batch and dies (its process killed): nobody marks it sent.
        dead = OutboxRelay(services.db, MemoryEventBus(), services.clock, claim_seconds=0.5)
        assert len(await dead._claim()) == 2
        assert await services.relay.relay_once() == 0  # claimed: left alone meanwhile
        await asyncio.sleep(0.6)
        services.bus.subscribe(OrderPlaced.topic, "count", count)
        assert await services.relay.relay_once() == 2  # the claim ran out
        assert handled == ["OrderPlaced"]

        # A relay stopped while its subscriber works gives the batch back at once.
        await services.orders.place(an_order("stopped"))
        stuck_bus = MemoryEventBus()
        stuck_bus.subscribe(OrderPlaced.topic, "stuck", stuck)
        stopping = OutboxRelay(services.db, stuck_bus, services.clock)
        in_flight = asyncio.create_task(stopping.relay_once())
        await asyncio.wait_for(entered.wait(), 10)
        in_flight.cancel()
        with pytest.raises(asyncio.CancelledError):
            await in_flight
        assert await failed_attempts(services) == 0  # stopped, not failed
        assert await services.relay.relay_once() == 2
        assert handled == ["OrderPlaced", "OrderPlaced"]
    finally:
        never.set()
        await services.close()


async def test_a_relay_takes_back_at_once_the_batch_it_lost_another_waits_for_its_claim(
    database_url: str,
) -> None:
    """PostgreSQL killed mid-batch: the relay could neither mark its batch sent nor give it
    back, and the gateway lives on. Its next pass publishes the order's events at once, not
    two minutes later; another replica still leaves them alone until the claim runs out."""
    services = await make_services(database_url, "memory://")
    handled: list[str] = []

    async def count(envelope: EventEnvelope) -> None:
        handled.append(envelope.event_type)

    try:
        await services.orders.place(an_order("lost"))
        assert len(await services.relay._claim()) == 2  # claimed, then the batch was lost
        other = OutboxRelay(services.db, MemoryEventBus(), services.clock)
        assert await other.relay_once() == 0
        services.bus.subscribe(OrderPlaced.topic, "count", count)
        assert await services.relay.relay_once() == 2
        assert handled == ["OrderPlaced"]
        assert await services.relay.unsent() == 0
    finally:
        await services.close()


@pytest.mark.real
@pytest.mark.slow
async def test_orders_placed_while_the_broker_is_down_reach_the_topic_exactly_once(
    kafka_server: KafkaServer, sqlite_template: Path, tmp_path: Path
) -> None:
    url = migrated_sqlite(sqlite_template, tmp_path / "fault.db")
    services = await make_services(url, kafka_server.url)
    await services.start()
    try:
        before = [await services.orders.place(an_order(f"up-{i}")) for i in range(5)]
        await _until(services.relay.unsent, 0)
        seen = await read_topic(kafka_server.bootstrap, OrderPlaced.topic, timeout=5)

        kafka_server.stop()
        during = [await services.orders.place(an_order(f"down-{i}")) for i in range(5)]
        # The relay has tried and failed (its producer is rebuilt): the events wait in the
        # outbox. (Tansu keeps topics in memory, so a restart is a new, empty broker.)
        await _until(lambda: failed_attempts(services), 1, at_least=True)
        assert await services.relay.unsent() == 10
        kafka_server.start()

        await _until(services.relay.unsent, 0, timeout=45)
        seen += await read_topic(
            kafka_server.bootstrap, OrderPlaced.topic, until=len(during), timeout=15
        )

        applied: list[str] = []

        async def apply(_s: AsyncSession, envelope: EventEnvelope) -> None:
            applied.append(envelope.data["reference"])

        ours = {o.reference for o in before + during}
        for envelope in seen:
            if envelope.data["reference"] in ours:
                await handle_once(services.db, services.clock, "fault-test", envelope, apply)
    finally:
        await services.close()
    assert sorted(applied) == sorted(ours)


async def failed_attempts(services: Services) -> int:
    async with services.db.transaction() as s:
        return int(await s.scalar(select(func.max(outbox.c.attempts))) or 0)


async def _until(probe, expected: int, timeout: float = 20.0, *, at_least: bool = False) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value == expected or (at_least and value >= expected):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value}, expected {expected}")
        await asyncio.sleep(0.1)


async def test_a_second_relay_leaves_an_orders_next_event_until_the_first_sent_its_earlier(
    any_database_url: str,
) -> None:
    """Two gateway replicas relay: while one is still publishing Ngozi's OrderPlaced (a slow
    broker), her order is confirmed. The other replica must not publish the confirmation
    first, or the app and the workflow hear "confirmed" before the order exists."""
    services = await make_services(any_database_url, "memory://")
    entered, release = asyncio.Event(), asyncio.Event()
    other_bus = MemoryEventBus()
    seen_by_other: list[str] = []

    async def slow(_envelope: EventEnvelope) -> None:
        entered.set()
        await release.wait()

    async def record_other(envelope: EventEnvelope) -> None:
        seen_by_other.append(str(envelope.data["status"]))

    other_bus.subscribe(OrderStatusChanged.topic, "other", record_other)
    other = OutboxRelay(services.db, other_bus, services.clock)
    try:
        services.bus.subscribe(OrderPlaced.topic, "slow", slow)
        order = await services.orders.place(an_order("in-order"))
        in_flight = asyncio.create_task(services.relay.relay_once())
        await asyncio.wait_for(entered.wait(), 10)
        await services.orders.advance(order.reference, OrderStatus.CONFIRMED)

        assert await other.relay_once() == 0
        assert seen_by_other == []

        release.set()
        assert await asyncio.wait_for(in_flight, 10) == 2
        assert await other.relay_once() == 1
    finally:
        release.set()
        await services.close()
    assert seen_by_other == ["confirmed"]


class _BehindClock(SystemClock):
    """Another machine's clock, `behind` slow (NTP steps, a VM resumed, a drifting host)."""

    def __init__(self, behind: timedelta) -> None:
        self._behind = behind

    def now(self) -> datetime:
        return super().now() - self._behind


class _Uuid7At(RandomIds):
    """UUIDv7 as that machine makes them: its own clock's milliseconds, then random bits."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def uuid(self) -> uuid.UUID:
        millis = int(self._clock.now().timestamp() * 1000)
        value = (millis << 80) | (0x7 << 76) | (secrets.randbits(12) << 64)
        return uuid.UUID(int=value | (0b10 << 62) | secrets.randbits(62))


async def test_an_orders_changes_from_two_processes_leave_in_order_though_their_clocks_differ(
    any_database_url: str, any_events_url: str
) -> None:
    """The gateway confirms Ngozi's order (her payment came in); a moment later the Temporal
    worker, on a host whose clock is a minute slow, starts picking it. The app and every
    consumer must hear "confirmed" and then "picking", not the other way round (which would
    leave "confirmed" as her order's last news while it is being picked)."""
    gateway = await make_services(any_database_url, any_events_url)
    slow = _BehindClock(timedelta(minutes=1))
    settings = gateway.settings
    worker = build_services(settings, clock=slow, ids=_Uuid7At(slow))
    seen: list[EventEnvelope] = []

    async def collect(envelope: EventEnvelope) -> None:
        seen.append(envelope)

    try:
        order = await gateway.orders.place(an_order("two-clocks"))
        await gateway.orders.advance(order.reference, OrderStatus.CONFIRMED)
        await worker.orders.advance(order.reference, OrderStatus.PICKING)
        if any_events_url == "memory://":
            gateway.bus.subscribe(OrderStatusChanged.topic, "test", collect)
            await gateway.relay.drain()
        else:
            await gateway.relay.drain()
            seen = await published(gateway, OrderStatusChanged.topic)
    finally:
        await worker.close()
        await gateway.close()
    first_seen = {e.event_id: e for e in reversed(seen)}
    applied = [e for e in seen if first_seen.get(e.event_id) is e]
    ours = [e.data["status"] for e in applied if e.data["reference"] == order.reference]
    assert ours == ["confirmed", "picking"]


def _status(reference: str, status: str, at: datetime) -> OrderStatusChanged:
    return OrderStatusChanged(
        event_id=uuid.uuid4(),
        occurred_at=at,
        aggregate_id=reference,
        reference=reference,
        customer=str(NGOZI),
        previous="placed",
        status=status,
    )


async def _counters(services: Services, *keys: str) -> dict[str, int]:
    async with services.db.transaction() as s:
        rows = await s.execute(
            select(outbox_sequences.c.key, outbox_sequences.c.seq).where(
                outbox_sequences.c.key.in_(keys)
            )
        )
        return {key: int(seq) for key, seq in rows.all()}


async def test_a_quiet_orders_event_counter_is_dropped_and_its_next_event_still_leaves(
    any_database_url: str,
) -> None:
    """outbox_sequences kept one row per order for ever. The relay's housekeeping drops the
    counter of an order quiet for the retention with nothing unsent; one with an event still
    waiting, or changed within the retention, keeps it. The quiet order's next change is
    numbered 1 again and is published."""
    services = await make_services(any_database_url, "memory://")
    heard: list[tuple[str, str]] = []

    async def collect(envelope: EventEnvelope) -> None:
        heard.append((str(envelope.data["reference"]), str(envelope.data["status"])))

    bus = MemoryEventBus()
    bus.subscribe(OrderStatusChanged.topic, "test", collect)
    relay = OutboxRelay(services.db, bus, services.clock, sequence_retention_seconds=7 * 86_400)
    now = services.clock.now()
    tag = uuid.uuid4().hex[:5].upper()
    quiet, recent, waiting = f"Q{tag}", f"R{tag}", f"W{tag}"
    try:
        async with services.db.transaction() as s:
            await record(s, _status(quiet, "delivered", now - timedelta(days=8)))
            await record(s, _status(recent, "confirmed", now - timedelta(days=1)))
        await relay.drain()
        async with services.db.transaction() as s:  # another replica is publishing it
            await record(s, _status(waiting, "confirmed", now - timedelta(days=30)))
            await s.execute(
                update(outbox)
                .where(outbox.c.key == waiting)
                .values(claimed_until=now + timedelta(hours=1))
            )

        relay.start()  # its first idle pass does the housekeeping
        try:
            async with asyncio.timeout(10):
                while True:
                    if quiet not in await _counters(services, quiet):
                        break
                    await asyncio.sleep(0.05)
        finally:
            await relay.stop()
        assert await _counters(services, quiet, recent, waiting) == {recent: 1, waiting: 1}

        async with services.db.transaction() as s:
            await record(s, _status(quiet, "returned", now))
        assert await _counters(services, quiet) == {quiet: 1}
        await relay.drain()
    finally:
        await services.close()
    assert (quiet, "returned") in heard


async def test_an_order_changed_while_its_counter_is_pruned_keeps_its_events_in_order(
    any_database_url: str,
) -> None:
    """Housekeeping looks at an order quiet for a month just as a worker (its clock far behind)
    records the order's next change. Dropping the counter under that uncommitted change would
    number the change after it 1, and the relay would publish the two the wrong way round."""
    services = await make_services(any_database_url, "memory://")
    heard: list[str] = []
    tag = uuid.uuid4().hex[:5].upper()
    order = f"O{tag}"

    async def collect(envelope: EventEnvelope) -> None:
        if envelope.data["reference"] == order:
            heard.append(str(envelope.data["status"]))

    bus = MemoryEventBus()
    bus.subscribe(OrderStatusChanged.topic, "test", collect)
    relay = OutboxRelay(services.db, bus, services.clock, sequence_retention_seconds=7 * 86_400)
    month_ago = services.clock.now() - timedelta(days=30)
    recorded, commit = asyncio.Event(), asyncio.Event()

    async def slow_worker() -> None:
        async with services.db.transaction() as s:
            await record(s, _status(order, "picking", month_ago))
            recorded.set()
            await commit.wait()

    try:
        async with services.db.transaction() as s:
            await record(s, _status(order, "confirmed", month_ago))
        await relay.drain()
        heard.clear()
        worker = asyncio.create_task(slow_worker())
        await asyncio.wait_for(recorded.wait(), 10)
        pruning = asyncio.create_task(relay.prune_sequences())
        await asyncio.sleep(0.5)  # the pruner reaches the counter the worker holds
        commit.set()
        await asyncio.wait_for(worker, 10)
        await asyncio.wait_for(pruning, 40)
        async with services.db.transaction() as s:
            await record(s, _status(order, "packed", services.clock.now()))
        await relay.drain()
    finally:
        commit.set()
        await services.close()
    assert heard == ["picking", "packed"]


@pytest.mark.real
async def test_a_send_that_fails_mid_batch_leaves_no_orders_events_out_of_order(
    kafka_server: KafkaServer,
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One send of a batch fails (its request timed out, the broker never took it) while the
    rest of the batch goes through: the order's later status changes must not reach the topic
    before it, nor another order's be held back. A consumer applying each event once (its
    first copy) sees every order's statuses in the order they happened."""
    url = migrated_sqlite(sqlite_template, tmp_path / "partial.db")
    services = await make_services(url, kafka_server.url)
    try:
        first = await services.orders.place(an_order("partial-1"))
        second = await services.orders.place(an_order("partial-2"))
        for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
            await services.orders.advance(first.reference, status)
            await services.orders.advance(second.reference, status)
        async with services.db.transaction() as s:
            [failing] = (
                await s.scalars(
                    select(outbox.c.id).where(
                        outbox.c.topic == OrderStatusChanged.topic,
                        outbox.c.envelope["data"]["reference"].as_string() == first.reference,
                        outbox.c.envelope["data"]["status"].as_string() == "confirmed",
                    )
                )
            ).all()
        send = AIOKafkaProducer.send
        failed: list[bytes] = []

        async def send_failing_once(self: AIOKafkaProducer, topic: str, **kwargs: Any) -> Any:
            value: bytes = kwargs["value"]
            if str(failing).encode() in value and not failed:
                failed.append(value)
                lost: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                lost.set_exception(KafkaError("the broker never took this batch"))
                return lost
            return await send(self, topic, **kwargs)

        monkeypatch.setattr(AIOKafkaProducer, "send", send_failing_once)
        for _ in range(100):
            with contextlib.suppress(PublishFailedError):  # the whole batch given back
                await services.relay.relay_once()
            if not await services.relay.unsent():
                break
            await asyncio.sleep(0.1)
        assert failed
        assert await services.relay.unsent() == 0
        seen = await read_topic(kafka_server.bootstrap, OrderStatusChanged.topic, timeout=5)
    finally:
        await services.close()
    first_seen = {e.event_id: e for e in reversed(seen)}
    applied = [e for e in seen if first_seen.get(e.event_id) is e]
    for order in (first, second):
        statuses = [e.data["status"] for e in applied if e.data["reference"] == order.reference]
        assert statuses == ["confirmed", "picking", "packed"], order.reference


@pytest.mark.real
async def test_a_batch_the_database_could_not_mark_sent_holds_up_no_later_event(
    postgres_server: PostgresServer, pg_database_url: str
) -> None:
    """The database restarts while a batch is being published: marking it sent fails. The
    relay asks again once the database is back, so the order's next status change leaves at
    once, not two minutes later when the batch's claim runs out (and the batch again)."""
    services = await make_services(pg_database_url, "memory://")
    seen: list[str] = []
    restarted = False

    async def restart_the_database_once(envelope: EventEnvelope) -> None:
        nonlocal restarted
        seen.append(envelope.data["status"])
        if not restarted:
            restarted = True
            await asyncio.to_thread(postgres_server.stop)
            asyncio.get_running_loop().call_later(
                1.0, lambda: asyncio.ensure_future(asyncio.to_thread(postgres_server.start))
            )

    try:
        order = await services.orders.place(an_order("mark-retry"))
        await services.relay.drain()
        services.bus.subscribe(OrderStatusChanged.topic, "test", restart_the_database_once)
        await services.orders.advance(order.reference, OrderStatus.CONFIRMED)
        assert await services.relay.relay_once() == 1  # published; marked once it is back
        await services.orders.advance(order.reference, OrderStatus.PICKING)
        await services.relay.drain()
        assert seen == ["confirmed", "picking"]
        assert await services.relay.unsent() == 0
    finally:
        await services.close()
