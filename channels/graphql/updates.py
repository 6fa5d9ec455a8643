"""Order status changes from the event bus, fanned out to the open GraphQL subscriptions.

Every gateway replica subscribes with its own consumer group, so each one sees every change
and serves the subscribers connected to it; the group is live (it starts at the topic's end), as
nobody is watching the changes made before the replica started.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.bus.events import EventEnvelope
from core.bus.port import EventBus
from engines.orders.events import OrderStatusChanged

QUEUE_SIZE = 64


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    reference: str
    customer: str
    previous: str
    status: str


class OrderUpdates:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Queue[OrderUpdate]]] = defaultdict(set)

    def subscribe_to(self, bus: EventBus) -> None:
        group = f"graphql-{uuid.uuid4().hex[:12]}"
        bus.subscribe(OrderStatusChanged.topic, group, self.deliver, live=True)

    async def deliver(self, envelope: EventEnvelope) -> None:
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

    async def watch(self, reference: str) -> AsyncIterator[OrderUpdate]:
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue(QUEUE_SIZE)
        self._watchers[reference].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._watchers[reference].discard(queue)
            if not self._watchers[reference]:
                del self._watchers[reference]

    @property
    def watching(self) -> int:
        return sum(len(queues) for queues in self._watchers.values())
