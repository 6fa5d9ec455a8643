"""The embedded event bus: in-process delivery, same outbox, no broker.

Delivery is at least once, as with Kafka: an event a subscriber failed on is not acknowledged
(`UndeliveredError`), so its outbox row stays unsent and the relay publishes it again after a
back-off of its own (doubling, bounded); then only the subscribers that have not handled it yet
run. The subscriber's
later events of the same aggregate wait behind it, in order (Kafka's partition would hold them
too); every other subscriber goes on. After a restart a waiting event goes to all its
subscribers again (what has no second effect is each consumer's to ensure, as with Kafka).

As on Kafka, a subscriber fails on one event at most `max_attempts` times: then the event is set
aside for it as a dead letter (logged as an error with the whole envelope, counted in
`dead_letters`), and its aggregate's later events reach it again. Without that, one poison
event would hold them back for good and its row would be published every minute for ever. A
failure because a backend could not be reached (`is_outage`) is not counted: it is redelivered
until the backend answers.

One event published by two callers at once (a relay whose claim ran out while its batch was
still in flight, and the relay that claimed the row next) is delivered by one of them at a
time: the second waits, then runs only the subscribers the first left owing it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from core.bus.events import EventEnvelope
from core.bus.outages import is_outage
from core.bus.port import MAX_ATTEMPTS, Joined, Subscriber, UndeliveredError

log = structlog.get_logger(__name__)


@dataclass
class _Delivery:
    """One event being published: its callers take turns."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    callers: int = 0


class MemoryEventBus:
    def __init__(self, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self._max_attempts = max_attempts
        self._subscribers: dict[str, list[tuple[str, Subscriber]]] = defaultdict(list)
        # Events some subscriber still owes: which of their subscribers (by place) handled them.
        self._handled: dict[uuid.UUID, set[int]] = {}
        # ... and how often each subscriber (by place) failed on them.
        self._failed: dict[uuid.UUID, Counter[int]] = {}
        # Events being published, by how many callers, each delivered by one caller at a time.
        self._delivering: dict[uuid.UUID, _Delivery] = {}
        self.dead_letters: Counter[tuple[str, str]] = Counter()

    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        waiting: set[uuid.UUID] = set()
        held: set[tuple[int, str]] = set()  # a subscriber's aggregate behind an event it failed
        for envelope in envelopes:
            delivery = self._delivering.setdefault(envelope.event_id, _Delivery())
            delivery.callers += 1
            try:
                async with delivery.lock:
                    await self._deliver(envelope, held, waiting)
            finally:
                delivery.callers -= 1
                # Its record is kept while another caller waits to publish it (and skips
                # whom this one reached); forgotten with the last.
                if not delivery.callers:
                    self._delivering.pop(envelope.event_id, None)  # gone if the bus closed
                    if envelope.event_id not in waiting:
                        self._handled.pop(envelope.event_id, None)
                        self._failed.pop(envelope.event_id, None)
        if waiting:
            raise UndeliveredError(frozenset(waiting))

    async def _deliver(
        self, envelope: EventEnvelope, held: set[tuple[int, str]], waiting: set[uuid.UUID]
    ) -> None:
        handled = self._handled.setdefault(envelope.event_id, set())
        for place, (group, handler) in enumerate(self._subscribers.get(envelope.topic, [])):
            if place in handled:
                continue
            if (place, envelope.key) not in held:
                try:
                    await handler(envelope)
                except Exception as exc:
                    failed = self._failed.setdefault(envelope.event_id, Counter())
                    # A backend out of reach: tried again, uncounted, until it is back.
                    failed[place] += 0 if is_outage(exc) else 1
                    if failed[place] >= self._max_attempts:
                        self._dead_letter(envelope, group, exc, failed[place])
                        handled.add(place)
                        continue
                    # Redelivered later; the other subscribers are not held back meanwhile.
                    log.exception(
                        "bus.subscriber_failed",
                        group=group,
                        topic=envelope.topic,
                        event_id=str(envelope.event_id),
                        attempt=failed[place],
                    )
                else:
                    handled.add(place)
                    continue
            held.add((place, envelope.key))
            waiting.add(envelope.event_id)

    def _dead_letter(
        self, envelope: EventEnvelope, group: str, error: Exception, attempts: int
    ) -> None:
        self.dead_letters[(envelope.topic, group)] += 1
        log.error(
            "bus.dead_lettered",
            group=group,
            topic=envelope.topic,
            event_id=str(envelope.event_id),
            attempts=attempts,
            error=f"{type(error).__name__}: {error}",
            envelope=envelope.model_dump(mode="json"),
        )

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
        # In process, every subscriber is live: it sees what is published once it is there,
        # and never reconnects (nothing is missed: `on_join` has nothing to catch up).
        self._subscribers[topic].append((group, handler))

    async def start(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
        self._handled.clear()
        self._failed.clear()
        self._delivering.clear()
