"""The transactional outbox: an event is a row written in the same transaction as the change.

The relay publishes unsent rows in the order they were written and marks them sent; a crash
between publishing and marking publishes again, which each consumer's idempotency key absorbs.
Nothing is lost while the broker is down: rows wait in the table.

A batch is claimed (`claimed_until`, in a short transaction of its own), published outside any
transaction, then marked sent: a slow broker, or the in-process bus running its subscribers,
never keeps a transaction, its row locks or a pooled connection. Another relay (replica) skips
claimed rows until the claim runs out, which only happens when the claiming relay died, and
leaves alone the later rows of an aggregate whose earlier rows are claimed: one order's events
leave in the order they were written even while two relays publish (its key keeps them in
order on the topic only as long as they are sent in order). A claim names its relay
(`claimed_by`): a relay publishes one batch at a time, so at its next claim any row still
claimed in its own name is a batch it lost (the database killed mid-batch, so it could neither
mark it sent nor give it back), and it takes such rows back at once, not when the claim runs out.

"The order they were written" is each key's `seq` (1, 2, 3…, taken from `outbox_sequences` in
the writing transaction), not the id: a UUIDv7 carries its process's clock, and an order is
changed by several processes (gateway replicas, Temporal workers): one whose clock is behind
would give a later change a smaller id, and the relay, ordering by id, would publish it first.
The counter's row stays locked until its transaction commits, so a key's numbers follow the
order its events were committed in, whatever the clocks say. Rows are still taken oldest id
first (fair between aggregates); within a key, by seq.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus.events import DomainEvent, EventEnvelope
from core.bus.port import EventBus, UndeliveredError
from core.bus.tables import outbox, outbox_sequences
from core.clock import Clock
from core.db import Database
from core.ids import worker_id
from core.loops import BackgroundLoop

log = structlog.get_logger(__name__)

# Longer than any publish takes (Kafka's retries give up well within it): a claim runs out only
# when its relay died, and then another publishes the rows again (consumers absorb repeats).
CLAIM_SECONDS = 120.0
# How long the relay keeps asking the database to mark a published batch sent (it restarting,
# failing over) before giving up and leaving the rows to their claim: well within the claim, so
# the rows are still this relay's while it asks. Marking rows sent twice is harmless.
MARK_RETRY_SECONDS = 30.0
# The longest an event waits between deliveries to an in-process subscriber that keeps failing.
REDELIVER_MAX_SECONDS = 60.0
# How long a key's counter (`outbox_sequences`) is kept after its last event, and how often the
# relay looks for such counters to drop, in batches of this many (the first is
# OMNIROUTE_OUTBOX_SEQUENCE_RETENTION_SECONDS).
SEQUENCE_RETENTION_SECONDS = 7 * 86_400
HOUSEKEEPING_SECONDS = 3_600.0
PRUNE_BATCH = 1_000


async def record(session: AsyncSession, *events: DomainEvent) -> None:
    """Add events to the outbox inside the caller's transaction, each numbered after the last
    of its key (see the module's docstring)."""
    numbers: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    for event in events:
        numbers[event.aggregate_id] = numbers.get(event.aggregate_id, 0) + 1
        latest[event.aggregate_id] = max(
            event.occurred_at, latest.get(event.aggregate_id, event.occurred_at)
        )
    for key in sorted(numbers):  # every transaction locks counters in one order: no deadlock
        # The last number this transaction takes for the key; its events count up to it.
        last = await _take_numbers(session, key, numbers[key], latest[key])
        numbers[key] = last - numbers[key]
    for event in events:
        envelope = event.envelope()
        numbers[envelope.key] += 1
        await session.execute(
            outbox.insert().values(
                id=event.event_id,
                topic=envelope.topic,
                key=envelope.key,
                event_type=envelope.event_type,
                version=envelope.version,
                envelope=envelope.model_dump(mode="json"),
                created_at=event.occurred_at,
                sent_at=None,
                attempts=0,
                seq=numbers[envelope.key],
            )
        )


async def _take_numbers(session: AsyncSession, key: str, count: int, at: datetime) -> int:
    """Move `key`'s counter on by `count` (created at `count`); returns where it now stands."""
    dialect = session.get_bind().dialect.name
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(outbox_sequences).values(
        key=key, seq=count, touched_at=at
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[outbox_sequences.c.key],
        set_={"seq": outbox_sequences.c.seq + count, "touched_at": at},
    )
    last = await session.scalar(upsert.returning(outbox_sequences.c.seq))
    assert last is not None  # an upsert's RETURNING always has its row
    return int(last)


def _place(seq: int | None, row_id: uuid.UUID) -> tuple[int, int, uuid.UUID]:
    """Where a row stands among its key's rows: by seq; rows written before 0022 (no seq) came
    before every numbered one, in id order (one process wrote them all, then)."""
    return (0, 0, row_id) if seq is None else (1, seq, row_id)


class _Numbered(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def key(self) -> str: ...

    @property
    def seq(self) -> int | None: ...


_Claimable = TypeVar("_Claimable", bound=_Numbered)


def _in_key_order(rows: Sequence[_Claimable]) -> list[_Claimable]:
    """The batch in id order, except that each key's rows take its slots in seq order."""
    slots: dict[str, list[int]] = {}
    for slot, row in enumerate(rows):
        slots.setdefault(row.key, []).append(slot)
    ordered = list(rows)
    for taken in slots.values():
        by_seq = sorted((rows[slot] for slot in taken), key=lambda r: _place(r.seq, r.id))
        for slot, row in zip(taken, by_seq, strict=True):
            ordered[slot] = row
    return ordered


class PublishFailedError(RuntimeError):
    """The bus refused a batch; its rows stay unsent and are retried."""


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.2,
        max_backoff_seconds: float = 5.0,
        claim_seconds: float = CLAIM_SECONDS,
        mark_retry_seconds: float = MARK_RETRY_SECONDS,
        redeliver_max_seconds: float = REDELIVER_MAX_SECONDS,
        sequence_retention_seconds: float = SEQUENCE_RETENTION_SECONDS,
        housekeeping_seconds: float = HOUSEKEEPING_SECONDS,
        owner: str | None = None,
    ) -> None:
        self._db = db
        self.owner = owner or worker_id()
        self._bus = bus
        self._clock = clock
        self._batch = batch_size
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._claim_seconds = claim_seconds
        self._mark_retry = mark_retry_seconds
        self._redeliver_max = redeliver_max_seconds
        self._sequence_retention = timedelta(seconds=sequence_retention_seconds)
        self._housekeeping_seconds = housekeeping_seconds
        self._next_housekeeping = time.monotonic()
        self._loop = BackgroundLoop("outbox-relay")
        # One batch at a time in this process: `drain` waits for a batch the background loop is
        # publishing (it would skip the claimed rows and return at once, before their
        # subscribers had run).
        self._one_batch = asyncio.Lock()

    def wake(self) -> None:
        self._loop.wake()

    async def relay_once(self) -> int:
        """Publish one batch of unsent events; returns how many were published."""
        async with self._one_batch:
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        claimed = await self._claim()
        if not claimed:
            return 0
        ids = [row_id for row_id, _ in claimed]
        try:
            await self._bus.publish([envelope for _, envelope in claimed])
        except UndeliveredError as exc:
            # The rest were handled: sent. One a subscriber failed on (or, on Kafka, one whose
            # send failed, with its aggregate's later ones: never sent) is published again once
            # its back-off has passed (held as claimed till then, with its aggregate's later
            # rows), and meanwhile the rows after it go on: it blocks no one else.
            waiting = [row_id for row_id in ids if row_id in exc.event_ids]
            now = self._clock.now()

            async def mark(s: AsyncSession) -> None:
                await s.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids), outbox.c.id.not_in(waiting))
                    .values(sent_at=now, claimed_until=None, claimed_by=None)
                )
                tried = await s.execute(
                    select(outbox.c.id, outbox.c.attempts).where(outbox.c.id.in_(waiting))
                )
                for row_id, attempts in tried.all():
                    wait = min(self._redeliver_max, self._poll * 2 ** (attempts + 1))
                    await s.execute(
                        update(outbox)
                        .where(outbox.c.id == row_id)
                        .values(
                            attempts=attempts + 1,
                            claimed_until=now + timedelta(seconds=wait),
                            claimed_by=None,  # a back-off, waited out even by this relay
                        )
                    )

            await self._mark(mark)
            log.warning("outbox.redelivery_due", events=len(waiting))
            return len(ids)
        except BaseException as exc:
            # Given back at once, not when the claim runs out: the next pass (or, when this
            # relay is being stopped, the next process) publishes them again.
            failed = isinstance(exc, Exception)
            async with self._db.transaction() as s:
                await s.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids))
                    .values(
                        attempts=outbox.c.attempts + int(failed),
                        claimed_until=None,
                        claimed_by=None,
                    )
                )
            if failed:
                raise PublishFailedError(len(ids)) from exc
            raise

        async def sent(s: AsyncSession) -> None:
            await s.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(sent_at=self._clock.now(), claimed_until=None, claimed_by=None)
            )

        await self._mark(sent)
        return len(ids)

    async def _mark(self, write: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Record what became of a published batch, asking again while the database fails.

        Left claimed, its rows (and their aggregates' later rows) would wait for the claim to
        run out, minutes, and then be published again; a shorter claim would let another relay
        publish a batch still in flight. So the write is retried, within `mark_retry_seconds`.
        """
        deadline = time.monotonic() + self._mark_retry
        backoff = self._poll
        while True:
            try:
                async with self._db.transaction() as s:
                    await write(s)
                return
            except Exception as exc:
                if time.monotonic() + backoff > deadline:
                    raise
                log.warning("outbox.mark_failed", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(self._max_backoff, backoff * 2)

    async def _claim(self) -> list[tuple[uuid.UUID, EventEnvelope]]:
        """The oldest unsent rows nobody is publishing, claimed for `claim_seconds`: those
        unclaimed, whose claim ran out, or claimed by this relay in a batch it lost."""
        now = self._clock.now()
        async with self._db.transaction() as s:
            query = (
                select(outbox.c.id, outbox.c.key, outbox.c.seq, outbox.c.envelope)
                .where(
                    outbox.c.sent_at.is_(None),
                    or_(
                        outbox.c.claimed_until.is_(None),
                        outbox.c.claimed_until <= now,
                        outbox.c.claimed_by == self.owner,
                    ),
                )
                .order_by(outbox.c.id)
                .limit(self._batch)
            )
            if self._db.dialect == "postgresql":
                # Several gateway replicas may relay: each row is claimed by one of them.
                query = query.with_for_update(skip_locked=True)
            rows = (await s.execute(query)).all()
            if rows:
                # Unsent rows not taken here are another relay's (claimed, or being claimed:
                # locked, so skipped), waiting for their back-off, or beyond this batch: the
                # same aggregate's later rows wait for them.
                mine = [r.id for r in rows]
                elsewhere: dict[str, tuple[int, int, uuid.UUID]] = {}
                theirs = await s.execute(
                    select(outbox.c.key, outbox.c.seq, outbox.c.id).where(
                        outbox.c.sent_at.is_(None),
                        outbox.c.key.in_({r.key for r in rows}),
                        outbox.c.id.not_in(mine),
                    )
                )
                for key, seq, row_id in theirs:
                    place = _place(seq, row_id)
                    elsewhere[key] = min(place, elsewhere.get(key, place))
                rows = [
                    r
                    for r in rows
                    if not (r.key in elsewhere and elsewhere[r.key] < _place(r.seq, r.id))
                ]
                rows = _in_key_order(rows)
            if rows:
                await s.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([r.id for r in rows]))
                    .values(
                        claimed_until=now + timedelta(seconds=self._claim_seconds),
                        claimed_by=self.owner,
                    )
                )
        return [(r.id, EventEnvelope.model_validate(r.envelope)) for r in rows]

    async def prune_sequences(self) -> int:
        """Drop the counters of keys with nothing unsent and no event for the retention;
        returns how many went. Such a key's next event is numbered 1 again, which keeps its
        order: the relay orders a key's *unsent* rows, and it has none."""
        pruned = 0
        while True:
            taken, dropped = await self._prune_batch()
            pruned += dropped
            if taken < PRUNE_BATCH:
                return pruned

    async def _prune_batch(self) -> tuple[int, int]:
        """One batch of `prune_sequences`: how many counters it looked at, and dropped.

        A writer numbering the key's next event meanwhile holds the counter's row locked till
        it commits. PostgreSQL: the counters are locked first, skipping the locked ones, so no
        writer is in flight on those taken, and the delete (a fresh snapshot) sees every event
        committed before; a writer coming after waits for the delete and starts at 1, with
        nothing of the key unsent. SQLite: the delete runs under the one write lock, after the
        writer's commit or before its write.
        """
        cutoff = self._clock.now() - self._sequence_retention
        quiet = or_(outbox_sequences.c.touched_at.is_(None), outbox_sequences.c.touched_at < cutoff)
        unsent = select(outbox.c.key).where(outbox.c.sent_at.is_(None))
        async with self._db.transaction() as s:
            query = (
                select(outbox_sequences.c.key)
                .where(quiet, outbox_sequences.c.key.not_in(unsent))
                .limit(PRUNE_BATCH)
            )
            if self._db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            keys = list((await s.scalars(query)).all())
            if not keys:
                return 0, 0
            gone = await s.scalars(
                delete(outbox_sequences)
                .where(
                    outbox_sequences.c.key.in_(keys),
                    quiet,
                    outbox_sequences.c.key.not_in(unsent.where(outbox.c.key.in_(keys))),
                )
                .returning(outbox_sequences.c.key)
            )
            dropped = len(gone.all())
        if dropped:
            log.info("outbox.sequences_pruned", keys=dropped)
        return len(keys), dropped

    async def _housekeeping(self) -> None:
        """One batch per idle pass, so a big first prune never holds up publishing; the next
        batch at the next idle pass while there are more, else in `housekeeping_seconds`."""
        if time.monotonic() < self._next_housekeeping:
            return
        try:
            taken, _ = await self._prune_batch()
        except Exception as exc:  # the next pass tries again; publishing goes on meanwhile
            log.warning("outbox.housekeeping_failed", error=str(exc))
            taken = 0
        if taken < PRUNE_BATCH:
            self._next_housekeeping = time.monotonic() + self._housekeeping_seconds

    async def drain(self) -> int:
        """Publish everything unsent now (tests, shutdown)."""
        total = 0
        while sent := await self.relay_once():
            total += sent
        return total

    async def release_claims(self) -> int:
        """Give back every claim on an unsent row (a relay killed mid-batch, or a redelivery's
        back-off), so the next pass publishes them now; returns how many. Only for a relay that
        knows no other is running on its database (`Services.start`)."""
        async with self._db.transaction() as s:
            result = await s.execute(
                update(outbox)
                .where(outbox.c.sent_at.is_(None), outbox.c.claimed_until.is_not(None))
                .values(claimed_until=None, claimed_by=None)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def unsent(self) -> int:
        async with self._db.transaction() as s:
            rows = await s.execute(select(outbox.c.id).where(outbox.c.sent_at.is_(None)))
            return len(rows.all())

    async def run(self) -> None:
        backoff = self._poll
        while self._loop.running:
            try:
                sent = await self.relay_once()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox.publish_failed", error=str(exc), retry_in=backoff)
                await self._loop.back_off(backoff)
                backoff = min(self._max_backoff, backoff * 2)
                continue
            if not sent:
                await self._housekeeping()
                await self._loop.pause(self._poll)

    def start(self) -> None:
        self._loop.start(self.run)

    async def stop(self) -> None:
        """Lets a batch in flight finish (published rows are marked sent) before stopping."""
        await self._loop.stop()
