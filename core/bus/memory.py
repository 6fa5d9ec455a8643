"""The embedded event bus: in-process delivery, same outbox, no broker."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import structlog

from core.bus.events import EventEnvelope
from core.bus.port import Subscriber

log = structlog.get_logger(__name__)


class MemoryEventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[str, Subscriber]]] = defaultdict(list)

    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        for envelope in envelopes:
            for group, handler in self._subscribers.get(envelope.topic, []):
                try:
                    await handler(envelope)
                except Exception:
                    # A failing subscriber must not block the outbox for everyone else.
                    log.exception("bus.subscriber_failed", group=group, topic=envelope.topic)

    def subscribe(self, topic: str, group: str, handler: Subscriber, *, live: bool = False) -> None:
        # In process, every subscriber is live: it sees what is published once it is there.
        self._subscribers[topic].append((group, handler))

    async def start(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._subscribers.clear()
