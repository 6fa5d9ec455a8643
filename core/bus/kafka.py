"""Kafka (Redpanda in production) behind the EventBus port, with aiokafka.

The producer is idempotent (acks=all), keyed by aggregate id so one aggregate's events keep
their order. After any failure it is rebuilt, so a restarted broker gets a fresh producer id.
`kafka://host:9092?idempotent=false` turns idempotence off for brokers without InitProducerId
(Tansu, the test broker); each consumer's idempotency key absorbs the duplicates a retry may
then make.

A consumer group cannot skip a message it failed on without losing it, and cannot stop on it
without holding up every later message of its partition: one poison event (not an envelope at
all, or a handler bug it always trips) would stall that group's partition for good. So a message
is handled up to `max_attempts` times with a doubling back-off; then it goes, as it came, to
`<topic>.dlq` with headers saying why (`dlq.error`) and whose it was (`dlq.group`, `dlq.topic`,
`dlq.partition`, `dlq.offset`, `dlq.attempts`), is logged as an error and counted
(`dead_letters`), and its offset is committed. A message that is not an envelope goes there at
once: no retry can parse it. A failure because a backend could not be reached (`is_outage`: the
database restarting, a connection refused) is no fault of the message and is not counted: the
message is tried again, with the same capped back-off, until the backend answers.

A broker with topic auto-creation off (as production clusters often run) would refuse that
first dead letter, and the partition would stall on it after all: so when the bus starts it
creates each subscribed topic's `<topic>.dlq`, with its source topic's partitions and
replication ("already exists" is fine). A creation that fails is logged once as an error naming
the topic, and the consumers run anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from pydantic import ValidationError

from core.bus.events import EventEnvelope
from core.bus.outages import is_outage
from core.bus.port import DEAD_LETTER_SUFFIX, MAX_ATTEMPTS, Joined, Subscriber, UndeliveredError

log = structlog.get_logger(__name__)

RETRIABLE_ATTEMPTS = 4
# How long `start` waits for live groups to join and find the topic's end before serving anyway.
LIVE_JOIN_TIMEOUT = 45.0
# The first wait before a failed message is handled again; it doubles up to the cap.
RETRY_BACKOFF_SECONDS = 0.5
RETRY_BACKOFF_MAX_SECONDS = 30.0
# aiokafka's default: the longest a consumer may go between polls before the group moves on.
MAX_POLL_INTERVAL_MS = 300_000
# A dead letter's `dlq.error` header keeps the start of the error, not a page of traceback.
ERROR_HEADER_CHARS = 1_000


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
    def __init__(
        self,
        url: str,
        *,
        request_timeout_ms: int = 5_000,
        max_attempts: int = MAX_ATTEMPTS,
        retry_backoff_seconds: float = RETRY_BACKOFF_SECONDS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._bootstrap = bootstrap_servers(url)
        self._idempotent = idempotent(url)
        self._timeout_ms = request_timeout_ms
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff_seconds
        # Messages sent to `<topic>.dlq`, by (topic, group): /metrics reads it.
        self.dead_letters: Counter[tuple[str, str]] = Counter()
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._subscriptions: list[tuple[str, str, Subscriber, bool, Joined | None]] = []
        # (topic, group) of the subscriptions that begin at the topic's end (`from_end`).
        self._from_end: set[tuple[str, str]] = set()
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
        """Publish in waves: each aggregate's next event only once its previous one is
        acknowledged, the other aggregates' meanwhile.

        The producer keeps a partition's order only while nothing fails: a send that failed
        (its batch timed out) does not stop a later one of the same aggregate, already queued
        behind it, from reaching the topic, and sending the failed one again puts it after.
        So one event of an aggregate is in flight at a time; one that failed is tried again
        (a retriable error) before its aggregate goes on, or, failing still, its aggregate's
        later events are not sent at all: `UndeliveredError` names what was not acknowledged
        when the rest was (the relay marks the rest sent), else the error is raised.
        """
        queues: dict[str, deque[EventEnvelope]] = {}
        for envelope in envelopes:
            queues.setdefault(envelope.key, deque()).append(envelope)
        acknowledged: set[uuid.UUID] = set()
        failures: list[BaseException] = []
        while wave := [queue.popleft() for queue in queues.values() if queue]:
            for envelope, error in zip(wave, await self._send_wave(wave), strict=True):
                if error is None:
                    acknowledged.add(envelope.event_id)
                else:
                    failures.append(error)
                    del queues[envelope.key]  # its later events wait for it
        if not failures:
            return
        if not acknowledged:
            raise failures[0]
        unsent = frozenset(e.event_id for e in envelopes) - acknowledged
        log.warning("kafka.publish_partly_failed", unsent=len(unsent), error=str(failures[0]))
        raise UndeliveredError(unsent)

    async def _send_wave(self, wave: Sequence[EventEnvelope]) -> list[BaseException | None]:
        """Send the envelopes (one per aggregate); what became of each, a retriable failure
        tried again up to RETRIABLE_ATTEMPTS times."""
        results: list[BaseException | None] = [None] * len(wave)
        pending = list(range(len(wave)))
        for attempt in range(RETRIABLE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(0.2 * attempt)
            errors = await self._send([wave[i] for i in pending])
            for i, error in zip(pending, errors, strict=True):
                results[i] = error
            # e.g. NotLeaderForPartition while a new topic's leader is elected.
            pending = [i for i in pending if _retriable(results[i])]
            if not pending:
                break
        return results

    async def _send(self, envelopes: Sequence[EventEnvelope]) -> list[BaseException | None]:
        async with self._lock:
            futures: list[asyncio.Future[object]] = []
            errors: list[BaseException | None] = []
            try:
                producer = await self._ensure_producer()
                for e in envelopes:
                    futures.append(
                        await producer.send(
                            e.topic,
                            value=e.to_bytes(),
                            key=e.key.encode(),
                            headers=[
                                ("event_type", e.event_type.encode()),
                                ("version", str(e.version).encode()),
                            ],
                        )
                    )
            except Exception as exc:
                errors = [exc] * (len(envelopes) - len(futures))
            sent = await asyncio.gather(*futures, return_exceptions=True)
            results: list[BaseException | None] = [
                r if isinstance(r, BaseException) else None for r in sent
            ] + errors
            if any(r is not None for r in results):
                await self._reset_producer()
            return results

    def subscribe(
        self,
        topic: str,
        group: str,
        handler: Subscriber,
        *,
        live: bool = False,
        on_join: Joined | None = None,
        from_end: bool = False,
    ) -> None:
        self._subscriptions.append((topic, group, handler, live, on_join))
        if from_end:
            self._from_end.add((topic, group))

    async def start(self, *, live_join_timeout: float = LIVE_JOIN_TIMEOUT) -> None:
        """Start every consumer; return once the live and `from_end` groups listen from the
        topic's end.

        A live group reads from where the topic ends when it joins, and a join takes seconds:
        serving before that would miss the changes made meanwhile (a subscription opened at
        once would never hear its order's next status).
        """
        joined: list[asyncio.Event] = []
        for topic, group, handler, live, on_join in self._subscriptions:
            ready = asyncio.Event()
            from_end = (topic, group) in self._from_end
            if live or from_end:
                joined.append(ready)
            consume = self._consume(
                topic, group, handler, live=live, ready=ready, on_join=on_join, from_end=from_end
            )
            self._consumers.append(asyncio.create_task(consume, name=f"kafka:{group}"))
        for topic in dict.fromkeys(topic for topic, *_ in self._subscriptions):
            self._consumers.append(
                asyncio.create_task(self._create_dead_letter_topic(topic), name=f"kafka:{topic}")
            )
        if not joined:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in joined)), live_join_timeout)
        except TimeoutError:
            log.warning("kafka.live_groups_not_joined", timeout_s=live_join_timeout)

    async def _create_dead_letter_topic(self, topic: str) -> None:
        """Create `<topic>.dlq` like `topic`; log (never raise) when that cannot be done."""
        dead_letter_topic = topic + DEAD_LETTER_SUFFIX
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, request_timeout_ms=self._timeout_ms
        )
        try:
            await admin.start()
            (source,) = await admin.describe_topics([topic])
            if source["error_code"]:
                raise for_code(source["error_code"])(f"describing {topic}")
            partitions = source["partitions"]
            created = await admin.create_topics(
                [
                    NewTopic(
                        dead_letter_topic,
                        num_partitions=len(partitions),
                        replication_factor=len(partitions[0]["replicas"]),
                    )
                ]
            )
            for _, code, message in created.topic_errors:
                if code and for_code(code) is not TopicAlreadyExistsError:
                    raise for_code(code)(message)
        except Exception as exc:
            log.error(
                "kafka.dead_letter_topic_not_created",
                topic=dead_letter_topic,
                source_topic=topic,
                error=f"{type(exc).__name__}: {exc}",
                hint="create it (as many partitions as the source topic), or poison events "
                "will stall their partitions",
            )
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    async def _consume(
        self,
        topic: str,
        group: str,
        handler: Subscriber,
        *,
        live: bool = False,
        ready: asyncio.Event | None = None,
        on_join: Joined | None = None,
        from_end: bool = False,
    ) -> None:
        """At-least-once: commit after the handler; each handler's effect is keyed.

        A live group starts at the end of the topic and commits nothing: a replica's fan-out
        group would otherwise read the whole topic's history on every start. A `from_end` group
        new to the broker starts at the end too, and commits that place at once: from then on it
        resumes where it stopped, as any other group. `ready` is set once the group has its
        partitions and (live, from_end) knows where the topic ends; `on_join` runs then, on
        every assignment (the consumer started again, or a rebalance inside it), before the
        next message.
        """
        backoff = 0.2
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="latest" if live or from_end else "earliest",
                # A JoinGroup request is answered only when the group's rebalance settles (the
                # broker may hold it for seconds): the producer's short outage timeout would
                # abandon every join and the consumer would never get partitions.
                request_timeout_ms=max(self._timeout_ms, 40_000),
                # See topics created after the consumer started within seconds, not minutes.
                metadata_max_age_ms=5_000,
                # A message's retries happen between two polls: the group must not give the
                # partition away meanwhile (then the retries would start over, for ever).
                max_poll_interval_ms=self._max_poll_interval_ms(),
            )
            # A live group rejoining (a rebalance inside the consumer, or this loop starting it
            # again) starts at the topic's end: `on_join` reads what it missed meanwhile.
            consumer.subscribe(
                [topic], listener=_Joined(consumer, on_join) if live and on_join else None
            )
            try:
                await consumer.start()  # returns once the group has assigned the partitions
                if live or from_end:
                    for partition in consumer.assignment():
                        await consumer.position(partition)  # resolves "latest" now, not later
                if from_end:
                    await consumer.commit()  # its place, where a restart takes it up
                if ready is not None:
                    ready.set()
                backoff = 0.2
                async for message in consumer:
                    await self._handle(message, group, handler)
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

    def _max_poll_interval_ms(self) -> int:
        """aiokafka's 5 minutes for handling a message, plus every retry's back-off."""
        waits = sum(
            min(RETRY_BACKOFF_MAX_SECONDS, self._retry_backoff * 2**n)
            for n in range(self._max_attempts - 1)
        )
        return MAX_POLL_INTERVAL_MS + int(waits * 1000)

    async def _handle(
        self, message: ConsumerRecord[bytes, bytes], group: str, handler: Subscriber
    ) -> None:
        """Hand one message to the handler, retrying; a poison message ends in `<topic>.dlq`."""
        if message.value is None:
            return  # a tombstone: nothing to handle
        try:
            envelope = EventEnvelope.from_bytes(message.value)
        except ValidationError as exc:
            await self._dead_letter(message, group, exc, attempts=1)
            return
        backoff = self._retry_backoff
        attempt = 0
        while True:
            try:
                await handler(envelope)
            except Exception as exc:
                outage = is_outage(exc)  # tried again until the backend is back, uncounted
                attempt += 0 if outage else 1
                if attempt == self._max_attempts:
                    await self._dead_letter(message, group, exc, attempts=attempt)
                    return
                log.warning(
                    "kafka.handler_failed",
                    group=group,
                    topic=message.topic,
                    event_id=str(envelope.event_id),
                    attempt=attempt,
                    outage=outage,
                    error=str(exc),
                    retry_in=backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(RETRY_BACKOFF_MAX_SECONDS, backoff * 2)
            else:
                return

    async def _dead_letter(
        self,
        message: ConsumerRecord[bytes, bytes],
        group: str,
        error: Exception,
        *,
        attempts: int,
    ) -> None:
        """Publish the message as it came to `<topic>.dlq`; raises while that fails (the
        consumer then starts again from the uncommitted message: nothing is lost)."""
        reason = f"{type(error).__name__}: {error}"[:ERROR_HEADER_CHARS]
        headers = [
            *message.headers,
            ("dlq.error", reason.encode()),
            ("dlq.group", group.encode()),
            ("dlq.topic", message.topic.encode()),
            ("dlq.partition", str(message.partition).encode()),
            ("dlq.offset", str(message.offset).encode()),
            ("dlq.attempts", str(attempts).encode()),
        ]
        dead_letter_topic = message.topic + DEAD_LETTER_SUFFIX
        async with self._lock:
            try:
                producer = await self._ensure_producer()
                await producer.send_and_wait(
                    dead_letter_topic, value=message.value, key=message.key, headers=headers
                )
            except Exception:
                await self._reset_producer()
                raise
        self.dead_letters[(message.topic, group)] += 1
        log.error(
            "kafka.dead_lettered",
            group=group,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            attempts=attempts,
            error=reason,
            dead_letter_topic=dead_letter_topic,
        )

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


class _Joined(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs `on_join` each time the group has its partitions, once it knows where they end
    (positions resolved first: a change published between the read and that would be lost)."""

    def __init__(self, consumer: AIOKafkaConsumer, on_join: Joined) -> None:
        self._consumer = consumer
        self._on_join = on_join

    async def on_partitions_revoked(self, revoked: object) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for partition in assigned:
            await self._consumer.position(partition)
        await self._on_join()


def _retriable(error: BaseException | None) -> bool:
    return isinstance(error, KafkaError) and error.retriable


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
