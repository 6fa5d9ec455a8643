"""Order status changes from the event bus, fanned out to the open GraphQL subscriptions.

Every gateway replica subscribes with its own consumer group, so each one sees every change
and serves the subscribers connected to it; the group is live (it starts at the topic's end), as
nobody is watching the changes made before the replica started. The outbox publishes at least
once (a relay that died before marking a batch sent publishes it again): an event already
passed on is recognised by its id and not sent twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.bus.events import EventEnvelope
from core.bus.port import EventBus
from engines.orders.events import OrderStatusChanged

QUEUE_SIZE = 64
# Event ids remembered to drop a republished one: far more than a relay batch (200 rows).
SEEN_EVENTS = 4096


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    reference: str
    customer: str
    previous: str
    status: str


class OrderUpdates:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Queue[OrderUpdate]]] = defaultdict(set)
        self._seen: OrderedDict[uuid.UUID, None] = OrderedDict()

    def subscribe_to(self, bus: EventBus) -> None:
        group = f"graphql-{uuid.uuid4().hex[:12]}"
        bus.subscribe(OrderStatusChanged.topic, group, self.deliver, live=True)

    async def deliver(self, envelope: EventEnvelope) -> None:
        if envelope.event_id in self._seen:
            return  # published again: the watchers have it already
        self._seen[envelope.event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        data = envelope.data
        update = OrderUpdate(
            str(data["reference"]),
            str(data["customer"]),
            str(data["previous"]),
            str(data["status"]),
        )
        for queue in list(self._watchers.get(update.reference, ())):
            if queue.full():
                queue.get_nowait()  # a slow client keeps the latest statuses, not the oldest
            queue.put_nowait(update)

    def watch(self, reference: str) -> Watch:
        """Changes of one order from now on: registered at once, before the caller reads the
        order, so a change made while it checks who may see the order is not missed."""
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue(QUEUE_SIZE)
        self._watchers[reference].add(queue)
        return Watch(self, reference, queue)

    def _forget(self, reference: str, queue: asyncio.Queue[OrderUpdate]) -> None:
        watchers = self._watchers.get(reference)
        if watchers is None:
            return
        watchers.discard(queue)
        if not watchers:
            del self._watchers[reference]

    @property
    def watching(self) -> int:
        return sum(len(queues) for queues in self._watchers.values())


class Watch:
    """One subscriber's queue of changes; `close` (or leaving `async with`) stops it."""

    def __init__(
        self, updates: OrderUpdates, reference: str, queue: asyncio.Queue[OrderUpdate]
    ) -> None:
        self._updates = updates
        self._reference = reference
        self._queue = queue

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._updates._forget(self._reference, self._queue)

    def queued(self) -> list[OrderUpdate]:
        """The changes received and not read yet, without waiting for more."""
        changes = []
        while not self._queue.empty():
            changes.append(self._queue.get_nowait())
        return changes

    def __aiter__(self) -> AsyncIterator[OrderUpdate]:
        return self

    async def __anext__(self) -> OrderUpdate:
        return await self._queue.get()
