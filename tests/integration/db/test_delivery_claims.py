"""Two delivery workers (two gateway replicas) never send the same message twice."""

from __future__ import annotations

import asyncio

from core.app.delivery import DeliveryWorker
from core.clock import SteppedClock, SystemClock
from core.db import Database
from core.ids import RandomIds
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import DeliveryStatus, NotificationService


class SlowCountingSender:
    """Stands in for a provider's API at the far edge: slow, and counts what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: OutboundMessage) -> str:
        await asyncio.sleep(0.05)
        self.sent.append(message.dedupe_key)
        return f"id-{len(self.sent)}"

    async def close(self) -> None:
        return None


async def test_two_workers_racing_send_each_message_once(any_database_url: str) -> None:
    db = Database(any_database_url)
    try:
        notifications = NotificationService(db, SystemClock(), RandomIds())
        for n in range(5):
            await notifications.queue(
                OutboundMessage(
                    provider="fake",
                    kind=ChannelKind.SMS,
                    to=Phone("+2348030000001"),
                    reply=Reply(f"message {n}", end=True),
                    dedupe_key=f"m-{n}",
                )
            )
        sender = SlowCountingSender()
        first = DeliveryWorker(notifications, {"fake": sender})
        second = DeliveryWorker(notifications, {"fake": sender})
        accepted = await asyncio.gather(first.send_due(), second.send_due())
        statuses = {d.status for d in await notifications.for_recipient(Phone("+2348030000001"))}
    finally:
        await db.dispose()
    assert sorted(sender.sent) == [f"m-{n}" for n in range(5)]
    assert sum(accepted) == 5
    assert statuses == {DeliveryStatus.SENT}


class BacklogSender:
    """A provider answering slowly while a backlog goes out (25 s a message, on the stepped
    clock); while it is sending the third, another replica's worker takes its own pass."""

    def __init__(self, clock: SteppedClock) -> None:
        self.clock = clock
        self.sent: list[str] = []
        self.other_replica: DeliveryWorker | None = None

    async def send(self, message: OutboundMessage) -> str:
        self.clock.advance(25)
        self.sent.append(message.dedupe_key)
        if len(self.sent) == 3 and self.other_replica is not None:
            replica, self.other_replica = self.other_replica, None
            await replica.send_due()
        return f"id-{len(self.sent)}"

    async def close(self) -> None:
        return None


async def test_a_backlog_sent_slower_than_the_lease_still_goes_out_once(
    any_database_url: str,
) -> None:
    """After an outage the queue is long and the provider slow: a batch outlives its 60 s
    lease. The replica that finds those messages due must not text the customer a second
    time the receipt or order notice the first worker is about to send."""
    db = Database(any_database_url)
    clock = SteppedClock()
    try:
        notifications = NotificationService(db, clock, RandomIds())
        for n in range(5):
            await notifications.queue(
                OutboundMessage(
                    provider="fake",
                    kind=ChannelKind.SMS,
                    to=Phone("+2348030000001"),
                    reply=Reply(f"message {n}", end=True),
                    dedupe_key=f"m-{n}",
                )
            )
        sender = BacklogSender(clock)
        first = DeliveryWorker(notifications, {"fake": sender})
        sender.other_replica = DeliveryWorker(notifications, {"fake": sender})
        await first.send_due()
        statuses = {d.status for d in await notifications.for_recipient(Phone("+2348030000001"))}
    finally:
        await db.dispose()
    assert sorted(sender.sent) == [f"m-{n}" for n in range(5)]
    assert statuses == {DeliveryStatus.SENT}


async def test_leases_taken_back_at_start_up_leave_a_retry_waiting_its_back_off(
    any_database_url: str,
) -> None:
    """A gateway alone on its database takes back the send leases a killed run of it held
    (`Services.start`): the message it was sending is due at once. One whose send failed
    keeps waiting out its back-off: the provider that refused it is not asked again sooner."""
    db = Database(any_database_url)
    clock = SteppedClock()
    try:
        notifications = NotificationService(db, clock, RandomIds())
        for key in ("leased", "refused"):
            await notifications.queue(
                OutboundMessage(
                    provider="fake",
                    kind=ChannelKind.SMS,
                    to=Phone("+2348030000001"),
                    reply=Reply(key, end=True),
                    dedupe_key=key,
                )
            )
        [_leased, refused] = sorted(await notifications.due(), key=lambda d: d.dedupe_key)
        await notifications.mark_failed_attempt(refused, "the provider hung up")
        clock.advance(1)  # the process is killed with `leased` in flight, and started again
        assert await notifications.release_leases() == 1
        again = await notifications.due()
        assert [d.dedupe_key for d in again] == ["leased"]
        clock.advance(2)  # the refused message's first back-off
        assert [d.dedupe_key for d in await notifications.due()] == ["refused"]
    finally:
        await db.dispose()


async def test_a_worker_takes_back_at_once_the_lease_of_a_pass_it_lost(database_url: str) -> None:
    """The database killed while a worker was sending: the rest of its pass stayed leased in
    its name. Its next pass texts her at once, not a minute later; another replica's worker
    still leaves the lease alone."""
    db = Database(database_url)
    clock = SteppedClock()
    try:
        notifications = NotificationService(db, clock, RandomIds())
        await notifications.queue(
            OutboundMessage(
                provider="fake",
                kind=ChannelKind.SMS,
                to=Phone("+2348030000001"),
                reply=Reply("Order W62ACJ placed.", end=True),
                dedupe_key="order-placed",
            )
        )
        sender = SlowCountingSender()
        worker = DeliveryWorker(notifications, {"fake": sender})
        other = DeliveryWorker(notifications, {"fake": sender})
        assert len(await notifications.due(worker=worker.owner)) == 1  # then the pass was lost
        assert await other.send_due() == 0
        assert await worker.send_due() == 1
        assert sender.sent == ["order-placed"]
    finally:
        await db.dispose()
