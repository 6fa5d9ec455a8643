"""The event bus port: the in-process bus and Kafka (Redpanda) both implement it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from core.bus.events import EventEnvelope

Subscriber = Callable[[EventEnvelope], Awaitable[None]]
Joined = Callable[[], Awaitable[None]]

# How many times a subscriber is given one event before it is set aside as a dead letter
# (OMNIROUTE_EVENTS_MAX_ATTEMPTS), and the topic that takes it: `<topic>.dlq`.
MAX_ATTEMPTS = 5
DEAD_LETTER_SUFFIX = ".dlq"


class UndeliveredError(RuntimeError):
    """Some envelopes of a batch still wait for a subscriber that failed; the rest were handled.

    The in-process bus raises it: those rows stay unsent and are published again, and only the
    subscribers that have not handled them yet run (the others are not run twice). Kafka raises
    it when some sends failed: those events, and their aggregates' later ones, were not sent.
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
        """Deliver the topic's events to `handler` (at least once: key its effect).

        A `live` subscriber gets only what is published after it starts, and its place is not
        kept: a fan-out to connected clients (GraphQL subscriptions) has no use for history.
        A live group that reconnects starts again at the topic's end, so what was published
        meanwhile never reaches it: `on_join` runs each time it has (re)joined, once it knows
        where the topic ends and before the next event, for it to read what it missed.

        A `from_end` group new to the broker begins at the topic's end, not its beginning, and
        then keeps its place as any group: a counter of what happens (/metrics) must not count
        the topic's whole retained history on its first deploy.
        """
        ...

    @property
    def dead_letters(self) -> Mapping[tuple[str, str], int]:
        """Events set aside after `max_attempts` failures, by (topic, subscriber group)."""
        ...

    async def start(self) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
