"""The event bus port: the in-process bus and Kafka (Redpanda) both implement it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from core.bus.events import EventEnvelope

Subscriber = Callable[[EventEnvelope], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, envelopes: Sequence[EventEnvelope]) -> None:
        """Publish in order; returns only when every envelope is acknowledged, else raises."""
        ...

    def subscribe(self, topic: str, group: str, handler: Subscriber, *, live: bool = False) -> None:
        """Deliver the topic's events to `handler` (at least once; use the inbox to dedupe).

        A `live` subscriber gets only what is published after it starts, and its place is not
        kept: a fan-out to connected clients (GraphQL subscriptions) has no use for history.
        """
        ...

    async def start(self) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
