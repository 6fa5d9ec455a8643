"""The event bus port: the in-process bus and Kafka (Redpanda) both implement it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from core.bus.events import EventEnvelope

Subscriber = Callable[[EventEnvelope], Awaitable[None]]


class UndeliveredError(RuntimeError):
    """Some envelopes of a batch still wait for a subscriber that failed; the rest were handled.

    The in-process bus raises it: those rows stay unsent and are published again, and only the
    subscribers that have not handled them yet run (the others are not run twice).
    """

    def __init__(self, event_ids: frozenset[uuid.UUID]) -> None:
        super().__init__(f"{len(event_ids)} events wait for a subscriber that failed")
        self.event_ids = event_ids


class EventBus(Protocol):
    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        """Publish in order; returns only when every envelope is acknowledged, else raises.

        `UndeliveredError` names the envelopes not yet acknowledged when the others were.
        """
        ...

    def subscribe(self, topic: str, group: str, handler: Subscriber, *, live: bool = False) -> None:
        """Deliver the topic's events to `handler` (at least once: key its effect).

        A `live` subscriber gets only what is published after it starts, and its place is not
        kept: a fan-out to connected clients (GraphQL subscriptions) has no use for history.
        """
        ...

    async def start(self) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
