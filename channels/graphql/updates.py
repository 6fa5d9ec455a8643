"""Order status changes from the event bus, fanned out to the open GraphQL subscriptions.

Every gateway replica subscribes with its own consumer group, so each one sees every change
and serves the subscribers connected to it; the group is live (it starts at the topic's end), as
nobody is watching the changes made before the replica started. The outbox publishes at least
once (a relay that died before marking a batch sent publishes it again): an event already
passed on is recognised by its id and not sent twice.

A live group that reconnects (its broker connection lost, the consumer restarted) starts again
at the topic's end: the changes published meanwhile never reach it. So each time the group has
joined, every open subscription reads its order's status from the database and is sent it when
it is later in the order's life than the last status it was sent (`OrderUpdate.previous` is
then that last status). A status is never sent twice, nor after a later one: an order's
lifecycle moves forward (the enum is declared in that order), so an event that comes after
the read with a status already sent, or an earlier one, is dropped. One move goes back: an
order recalled to the dock (its route expired before the first door) is packed again, then
dispatched again. An event that moves on from the very status the subscriber was last sent
is therefore always sent, whatever its rank: the app follows the recall and the new dispatch.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import structlog

from core.bus.events import EventEnvelope
from core.bus.port import EventBus
from engines.orders.events import OrderStatusChanged
from engines.orders.model import OrderStatus

log = structlog.get_logger(__name__)

QUEUE_SIZE = 64
# Event ids remembered to drop a republished one: far more than a relay batch (200 rows).
SEEN_EVENTS = 4096
# Where a status stands in an order's life: every transition moves to a later one.
_RANK = {status.value: place for place, status in enumerate(OrderStatus)}

# An order's customer and current status, or None when there is no such order.
StatusReader = Callable[[str], Awaitable[tuple[str, str] | None]]


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    reference: str
    customer: str
    previous: str
    status: str


class OrderUpdates:
    def __init__(self, read_status: StatusReader | None = None) -> None:
        self._watchers: dict[str, set[Watch]] = defaultdict(set)
        self._seen: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._read_status = read_status

    def subscribe_to(self, bus: EventBus) -> None:
        group = f"graphql-{uuid.uuid4().hex[:12]}"
        bus.subscribe(
            OrderStatusChanged.topic, group, self.deliver, live=True, on_join=self.catch_up
        )

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
        for watch in list(self._watchers.get(update.reference, ())):
            watch.offer(update)

    async def catch_up(self) -> None:
        """The live group has (re)joined at the topic's end: send each subscription the status
        its order reached meanwhile, if it has not been sent it."""
        if self._read_status is None:
            return
        for reference in list(self._watchers):
            try:
                found = await self._read_status(reference)
            except Exception as exc:  # the next join, or the next event, tells them
                log.warning("graphql.updates_catch_up_failed", order=reference, error=str(exc))
                continue
            if found is None:
                continue
            customer, status = found
            for watch in list(self._watchers.get(reference, ())):
                watch.catch_up(customer, status)

    def watch(self, reference: str) -> Watch:
        """Changes of one order from now on: registered at once, before the caller reads the
        order, so a change made while it checks who may see the order is not missed."""
        watch = Watch(self, reference, asyncio.Queue(QUEUE_SIZE))
        self._watchers[reference].add(watch)
        return watch

    def _forget(self, watch: Watch) -> None:
        watchers = self._watchers.get(watch.reference)
        if watchers is None:
            return
        watchers.discard(watch)
        if not watchers:
            del self._watchers[watch.reference]

    @property
    def watching(self) -> int:
        """The subscriptions following an order: told where it stands, waiting for changes."""
        return sum(w.started for watches in self._watchers.values() for w in watches)


class Watch:
    """One subscriber's queue of changes; `close` (or leaving `async with`) stops it."""

    def __init__(
        self, updates: OrderUpdates, reference: str, queue: asyncio.Queue[OrderUpdate]
    ) -> None:
        self._updates = updates
        self.reference = reference
        self._queue = queue
        # The latest status queued for the subscriber, or read when it subscribed.
        self._last: str | None = None

    @property
    def started(self) -> bool:
        return self._last is not None

    def start(self, customer: str, status: str) -> None:
        """The order is at `status` as read when the subscriber came: it is sent that first
        (`previous` the same: no change, where the order stands), so an app that reconnects,
        or follows an order already final, is told where it is without asking separately;
        unless changes reached the queue meanwhile: they come in order, each after what the
        read saw or before it, and what follows the read comes too, so the read overrules
        none of them (it may predate a recall in the queue, or the next change), and the last
        of them is where the order stands."""
        if self._last is None:
            self._queue_up(OrderUpdate(self.reference, customer, status, status))

    def offer(self, update: OrderUpdate) -> None:
        """Queue a change that moves on from the subscriber's last status (a recall, packed
        again after dispatched, too), or else one to a later status than it has."""
        if self._last is not None and update.previous != self._last:
            self._later(update)
            return
        self._queue_up(update)

    def _later(self, update: OrderUpdate) -> None:
        """Queue a change only when its status is later than the subscriber's: a status read
        from the database may be older than the events already sent."""
        if self._last is not None and _RANK.get(update.status, -1) <= _RANK.get(self._last, -1):
            return
        self._queue_up(update)

    def _queue_up(self, update: OrderUpdate) -> None:
        self._last = update.status
        if self._queue.full():
            self._queue.get_nowait()  # a slow client keeps the latest statuses, not the oldest
        self._queue.put_nowait(update)

    def catch_up(self, customer: str, status: str) -> None:
        """The order is at `status` now: queue it if the subscriber is behind."""
        if self._last is not None and status != self._last:
            self._later(OrderUpdate(self.reference, customer, self._last, status))

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._updates._forget(self)

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
