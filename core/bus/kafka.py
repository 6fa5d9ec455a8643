"""Kafka (Redpanda in production) behind the EventBus port, with aiokafka.

The producer is idempotent (acks=all), keyed by aggregate id so one aggregate's events keep
their order. After any failure it is rebuilt, so a restarted broker gets a fresh producer id.
`kafka://host:9092?idempotent=false` turns idempotence off for brokers without InitProducerId
(Tansu, the test broker); each consumer's idempotency key absorbs the duplicates a retry may
then make.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from core.bus.events import EventEnvelope
from core.bus.port import Subscriber

log = structlog.get_logger(__name__)

RETRIABLE_ATTEMPTS = 4
# How long `start` waits for live groups to join and find the topic's end before serving anyway.
LIVE_JOIN_TIMEOUT = 45.0


def bootstrap_servers(url: str) -> str:
    """`kafka://host:9092[,host2:9092]` -> `host:9092[,host2:9092]`."""
    parts = urlsplit(url)
    if parts.scheme != "kafka" or not parts.netloc:
        raise ValueError(f"not a kafka:// URL: {url!r}")
    return parts.netloc


def idempotent(url: str) -> bool:
    values = parse_qs(urlsplit(url).query).get("idempotent", ["true"])
    return values[-1].lower() not in {"false", "0", "no"}


class KafkaEventBus:
    def __init__(self, url: str, *, request_timeout_ms: int = 5_000) -> None:
        self._bootstrap = bootstrap_servers(url)
        self._idempotent = idempotent(url)
        self._timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._subscriptions: list[tuple[str, str, Subscriber, bool]] = []
        self._consumers: list[asyncio.Task[None]] = []

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                enable_idempotence=self._idempotent,
                acks="all",
                linger_ms=2,
                request_timeout_ms=self._timeout_ms,
            )
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        for attempt in range(RETRIABLE_ATTEMPTS):
            try:
                await self._publish(envelopes)
                return
            except KafkaError as exc:
                # e.g. NotLeaderForPartition while a new topic's leader is elected.
                if not exc.retriable or attempt == RETRIABLE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        async with self._lock:
            try:
                producer = await self._ensure_producer()
                futures = [
                    await producer.send(
                        e.topic,
                        value=e.to_bytes(),
                        key=e.key.encode(),
                        headers=[
                            ("event_type", e.event_type.encode()),
                            ("version", str(e.version).encode()),
                        ],
                    )
                    for e in envelopes
                ]
                await asyncio.gather(*futures)
            except Exception:
                await self._reset_producer()
                raise

    def subscribe(self, topic: str, group: str, handler: Subscriber, *, live: bool = False) -> None:
        self._subscriptions.append((topic, group, handler, live))

    async def start(self, *, live_join_timeout: float = LIVE_JOIN_TIMEOUT) -> None:
        """Start every consumer; return once the live groups listen from the topic's end.

        A live group reads from where the topic ends when it joins, and a join takes seconds:
        serving before that would miss the changes made meanwhile (a subscription opened at
        once would never hear its order's next status).
        """
        joined: list[asyncio.Event] = []
        for topic, group, handler, live in self._subscriptions:
            ready = asyncio.Event()
            if live:
                joined.append(ready)
            self._consumers.append(
                asyncio.create_task(
                    self._consume(topic, group, handler, live=live, ready=ready),
                    name=f"kafka:{group}",
                )
            )
        if not joined:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in joined)), live_join_timeout)
        except TimeoutError:
            log.warning("kafka.live_groups_not_joined", timeout_s=live_join_timeout)

    async def _consume(
        self,
        topic: str,
        group: str,
        handler: Subscriber,
        *,
        live: bool = False,
        ready: asyncio.Event | None = None,
    ) -> None:
        """At-least-once: commit after the handler; each handler's effect is keyed.

        A live group starts at the end of the topic and commits nothing: a replica's fan-out
        group would otherwise read the whole topic's history on every start. `ready` is set
        once the group has its partitions and (live) knows where the topic ends.
        """
        backoff = 0.2
        while True:
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=self._bootstrap,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="latest" if live else "earliest",
                # A JoinGroup request is answered only when the group's rebalance settles (the
                # broker may hold it for seconds): the producer's short outage timeout would
                # abandon every join and the consumer would never get partitions.
                request_timeout_ms=max(self._timeout_ms, 40_000),
                # See topics created after the consumer started within seconds, not minutes.
                metadata_max_age_ms=5_000,
            )
            try:
                await consumer.start()  # returns once the group has assigned the partitions
                if live:
                    for partition in consumer.assignment():
                        await consumer.position(partition)  # resolves "latest" now, not later
                if ready is not None:
                    ready.set()
                backoff = 0.2
                async for message in consumer:
                    if message.value is not None:
                        await handler(EventEnvelope.from_bytes(message.value))
                    if not live:
                        await consumer.commit()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("kafka.consumer_failed", group=group, error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(5.0, backoff * 2)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def ping(self) -> bool:
        """Up while any bootstrap broker answers: the producer and the consumers reach the
        cluster through whichever one does (one broker restarting is not an outage)."""
        servers = [server.strip() for server in self._bootstrap.split(",") if server.strip()]
        answers = await asyncio.gather(*(_reachable(server) for server in servers))
        return any(answers)

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()
        await self._reset_producer()


# ApiVersions v0 (api key 18), which every broker answers, even one that no longer serves v0
# (it answers UNSUPPORTED_VERSION): the smallest request that proves the broker is serving.
_API_VERSIONS = 18
_PROBE_ID = 0x0B5E
_PROBE_CLIENT = b"omniroute-readyz"
PING_SECONDS = 1.0


def _api_versions_request() -> bytes:
    body = struct.pack(">hhih", _API_VERSIONS, 0, _PROBE_ID, len(_PROBE_CLIENT)) + _PROBE_CLIENT
    return struct.pack(">i", len(body)) + body


async def _reachable(server: str) -> bool:
    """The broker answers a request, not merely its port: a hung broker (stopped, stuck in a
    pause) still has its connections accepted by the kernel, and would look up."""
    host, _, port = server.strip().rpartition(":")
    try:
        async with asyncio.timeout(PING_SECONDS):
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            try:
                writer.write(_api_versions_request())
                await writer.drain()
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                (correlation,) = struct.unpack(">i", await reader.readexactly(4))
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, struct.error):
        return False
    return bool(size >= 4 and correlation == _PROBE_ID)
