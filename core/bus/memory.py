"""The embedded event bus: in-process delivery, same outbox, no broker.

Delivery is at least once, as with Kafka: an event a subscriber failed on is not acknowledged
(`UndeliveredError`), so its outbox row stays unsent and the relay publishes it again after a
back-off of its own (doubling, bounded); then only the subscribers that have not handled it yet
run. The subscriber's
later events of the same aggregate wait behind it, in order (Kafka's partition would hold them
too); every other subscriber goes on. After a restart a waiting event goes to all its
subscribers again (what has no second effect is each consumer's to ensure, as with Kafka).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

import structlog

from core.bus.events import EventEnvelope
from core.bus.port import Subscriber, UndeliveredError

log = structlog.get_logger(__name__)


class MemoryEventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[str, Subscriber]]] = defaultdict(list)
        # Events some subscriber still owes: which of their subscribers (by place) handled them.
        self._handled: dict[uuid.UUID, set[int]] = {}

    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        waiting: set[uuid.UUID] = set()
        held: set[tuple[int, str]] = set()  # a subscriber's aggregate behind an event it failed
        for envelope in envelopes:
            handled = self._handled.setdefault(envelope.event_id, set())
            for place, (group, handler) in enumerate(self._subscribers.get(envelope.topic, [])):
                if place in handled:
                    continue
                if (place, envelope.key) not in held:
                    try:
                        await handler(envelope)
                    except Exception:
                        # Redelivered later; the other subscribers are not held back meanwhile.
                        log.exception(
                            "bus.subscriber_failed",
                            group=group,
                            topic=envelope.topic,
                            event_id=str(envelope.event_id),
                        )
                    else:
                        handled.add(place)
                        continue
                held.add((place, envelope.key))
                waiting.add(envelope.event_id)
            if envelope.event_id not in waiting:
                del self._handled[envelope.event_id]
        if waiting:
            raise UndeliveredError(frozenset(waiting))

    def subscribe(self, topic: str, group: str, handler: Subscriber, *, live: bool = False) -> None:
        # In process, every subscriber is live: it sees what is published once it is there.
        self._subscribers[topic].append((group, handler))

    async def start(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
        self._handled.clear()
