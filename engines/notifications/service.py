"""Queue outbound messages once, hand due ones to senders, and record what providers report.

WhatsApp's 24-hour rule is kept here too, so it holds for every sender: each reply to a
customer's message records when they last wrote (`conversation_windows`), and when a WhatsApp
delivery falls due outside that window it goes out as its template, or, having none, is refused
for good instead of being retried.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, false, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications.model import (
    MAX_ATTEMPTS,
    OUTSIDE_WINDOW,
    WINDOWED_KINDS,
    Delivery,
    DeliveryStatus,
    retry_delay,
    window_open,
)
from engines.notifications.tables import conversation_windows, deliveries

SEND_LEASE = timedelta(seconds=60)
# How many of a customer's newest messages are looked through for the last screen sent her
# (order notices, receipts between it and now show none).
RECENT_SENT = 20

# Provider delivery-report words -> ours. Anything unknown leaves the status as it is.
_REPORTED = {
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "success": DeliveryStatus.DELIVERED,
    "sent": DeliveryStatus.SENT,
    "buffered": DeliveryStatus.SENT,
    "submitted": DeliveryStatus.SENT,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "rejected": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.FAILED,
}


def payload_of(message: OutboundMessage) -> dict[str, Any]:
    return {
        "reply": message.reply.to_dict(),
        "reply_to": message.reply_to,
        "template": message.template,
        "template_values": list(message.template_values),
        "sms_fallback": message.sms_fallback,
    }


def message_of(delivery: Delivery) -> OutboundMessage:
    payload = delivery.payload
    reply = payload["reply"]
    assert isinstance(reply, dict)
    values = payload.get("template_values") or []
    assert isinstance(values, list)
    return OutboundMessage(
        provider=delivery.provider,
        kind=ChannelKind(delivery.kind),
        to=Phone(delivery.to),
        reply=Reply.from_dict(reply),
        dedupe_key=delivery.dedupe_key,
        reply_to=payload.get("reply_to"),  # type: ignore[arg-type]
        template=payload.get("template"),  # type: ignore[arg-type]
        template_values=tuple(str(v) for v in values),
        sms_fallback=payload.get("sms_fallback"),  # type: ignore[arg-type]
    )


class NotificationService:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        # Delivery reports that changed a message's status, by (provider, kind, status): the
        # failures a provider finds after it took the message show only here. A report the
        # provider sends again changes nothing and is not counted again. /metrics reads it.
        self.reports: Counter[tuple[str, str, str]] = Counter()

    async def queue(self, message: OutboundMessage, *, suppressed: bool = False) -> bool:
        """Queue once per dedupe key; False when it was already queued."""
        async with self._db.transaction() as s:
            return await self.queue_in(s, message, suppressed=suppressed)

    async def queue_in(
        self,
        s: AsyncSession,
        message: OutboundMessage,
        *,
        suppressed: bool = False,
        not_before: datetime | None = None,
    ) -> bool:
        """`not_before`: held back until then (a text not to be sent at night)."""
        existing = await s.scalar(
            select(deliveries.c.id).where(deliveries.c.dedupe_key == message.dedupe_key)
        )
        if existing is not None:
            return False
        now = self._clock.now()
        await s.execute(
            deliveries.insert().values(
                id=self._ids.uuid(),
                provider=message.provider,
                kind=message.kind.value,
                to=message.to.e164,
                payload=payload_of(message),
                dedupe_key=message.dedupe_key,
                status=(DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.QUEUED).value,
                attempts=0,
                next_attempt_at=now if not_before is None else max(now, not_before),
                provider_message_id=None,
                last_error=None,
                created_at=now,
                updated_at=now,
            )
        )
        if message.reply_to is not None and message.kind.value in WINDOWED_KINDS:
            # A reply answers a message the customer sent: their window opened when the
            # provider received it (a webhook redelivered late opens less of it, or none); a
            # time ahead of our clock is taken as now, so a skewed clock cannot stretch it.
            sent = message.received_at
            await self._record_inbound_in(
                s, message.provider, message.to, now if sent is None else min(sent, now)
            )
        return True

    async def withdraw(self, dedupe_prefix: str, reason: str) -> int:
        """Deliveries not sent yet whose dedupe key begins with `dedupe_prefix` will not be:
        what they say no longer holds. How many were withdrawn."""
        async with self._db.transaction() as s:
            return await self.withdraw_in(s, dedupe_prefix, reason)

    async def withdraw_in(self, s: AsyncSession, dedupe_prefix: str, reason: str) -> int:
        """`withdraw` in the caller's transaction, with the change that makes them untrue."""
        result = await s.execute(
            update(deliveries)
            .where(
                deliveries.c.status == DeliveryStatus.QUEUED.value,
                deliveries.c.dedupe_key.startswith(dedupe_prefix, autoescape=True),
            )
            .values(
                status=DeliveryStatus.SUPPRESSED.value,
                last_error=reason,
                updated_at=self._clock.now(),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def queued_before(self, dedupe_prefix: str, before: datetime) -> int:
        """How many deliveries whose dedupe key begins with `dedupe_prefix` were queued before
        `before` (sent, suppressed or not): how often something was said already."""
        async with self._db.transaction() as s:
            count = await s.scalar(
                select(func.count())
                .select_from(deliveries)
                .where(
                    deliveries.c.dedupe_key.startswith(dedupe_prefix, autoescape=True),
                    deliveries.c.created_at < before,
                )
            )
        return int(count or 0)

    async def due(self, limit: int = 50, *, worker: str | None = None) -> list[Delivery]:
        """The deliveries to send now, each leased to `worker` (`core.ids.worker_id`). Those
        already leased to it are taken back at once: a worker sends one pass at a time, so
        such a lease is left from a pass it lost (the database went away mid-batch) and would
        otherwise be waited out, a minute; another worker's lease still is."""
        mine = false() if worker is None else deliveries.c.leased_by == worker
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(deliveries)
                .where(
                    deliveries.c.status == DeliveryStatus.QUEUED.value,
                    or_(deliveries.c.next_attempt_at <= self._clock.now(), mine),
                )
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                .limit(limit)
            )
            found = [_delivery(r) for r in rows]
            now = self._clock.now()
            claimed = []
            for delivery in found:
                # A lease, not a lock: another worker (replica) skips it until the lease ends,
                # and a worker that crashes mid-send leaves it to be retried then.
                result = await s.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id == delivery.id,
                        deliveries.c.status == DeliveryStatus.QUEUED.value,
                        or_(deliveries.c.next_attempt_at <= now, mine),
                    )
                    .values(next_attempt_at=now + SEND_LEASE, leased_by=worker)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(dataclasses.replace(delivery, next_attempt_at=now + SEND_LEASE))
            return [d for d in [await self._within_window(s, d) for d in claimed] if d is not None]

    async def renew(self, delivery: Delivery) -> Delivery | None:
        """`delivery` (as `due` claimed it) with its lease renewed from now, just before it is
        sent; None when the lease ran out and another worker took it meanwhile.

        A batch is claimed at once, but sent one message at a time: behind a slow provider (a
        backlog after an outage) its last messages fall due again before their turn, and the
        replica that claims them would text the customer the same message twice.
        """
        lease = self._clock.now() + SEND_LEASE
        async with self._db.transaction() as s:
            result = await s.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery.id,
                    deliveries.c.status == DeliveryStatus.QUEUED.value,
                    deliveries.c.next_attempt_at == delivery.next_attempt_at,
                )
                .values(next_attempt_at=lease)
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return dataclasses.replace(delivery, next_attempt_at=lease)

    async def release_leases(self) -> int:
        """Make every queued delivery held by a send lease (`due`, `renew`) due now: a worker
        killed mid-batch left them to wait out the lease; returns how many. A retry waiting out
        its back-off (`next_attempt_at` its failure's time plus `retry_delay`) keeps its wait.
        Only for a worker that knows no other is sending from its database (`Services.start`)."""
        now = self._clock.now()
        async with self._db.transaction() as s:
            held = await s.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.attempts,
                    deliveries.c.next_attempt_at,
                    deliveries.c.updated_at,
                ).where(
                    deliveries.c.status == DeliveryStatus.QUEUED.value,
                    deliveries.c.next_attempt_at > now,
                )
            )
            leased = [
                r.id
                for r in held
                if not r.attempts or r.next_attempt_at != r.updated_at + retry_delay(r.attempts)
            ]
            if leased:
                await s.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id.in_(leased),
                        deliveries.c.status == DeliveryStatus.QUEUED.value,
                    )
                    .values(next_attempt_at=now, leased_by=None)
                )
        return len(leased)

    async def record_inbound(
        self, provider: str, contact: Phone, at: datetime | None = None
    ) -> None:
        """The customer wrote to us at `at` (now): free-form messages may follow for 24 hours."""
        async with self._db.transaction() as s:
            await self._record_inbound_in(s, provider, contact, at or self._clock.now())

    async def whatsapp_provider(self, contact: Phone) -> str | None:
        """The WhatsApp provider (Meta or Twilio) the customer last wrote to us on, or None."""
        async with self._db.transaction() as s:
            return await self._whatsapp_provider_in(s, contact)

    async def _whatsapp_provider_in(self, s: AsyncSession, contact: Phone) -> str | None:
        found: str | None = await s.scalar(
            select(conversation_windows.c.provider)
            .where(conversation_windows.c.contact == contact.e164)
            .order_by(conversation_windows.c.last_inbound_at.desc())
            .limit(1)
        )
        return found

    async def order_whatsapp_in(
        self, s: AsyncSession, able: frozenset[str], order_key: str, contact: Phone
    ) -> str | None:
        """The WhatsApp provider a notice about an order goes by: the one she last wrote to us
        on, when the order was placed in a WhatsApp conversation and that provider is one of
        `able` (set up to send a message nobody asked for); None (by SMS) for any other order.

        The dialog keys an order by its conversation's session key, which WhatsApp's edges
        (Meta and Twilio alike) begin with `whatsapp:`."""
        if not order_key.startswith(f"{ChannelKind.WHATSAPP.value}:"):
            return None
        provider = await self._whatsapp_provider_in(s, contact)
        return provider if provider in able else None

    async def order_whatsapp(
        self, able: frozenset[str], order_key: str, contact: Phone
    ) -> str | None:
        async with self._db.transaction() as s:
            return await self.order_whatsapp_in(s, able, order_key, contact)

    async def last_inbound(self, provider: str, contact: Phone) -> datetime | None:
        async with self._db.transaction() as s:
            return await self._last_inbound_in(s, provider, contact)

    async def _record_inbound_in(
        self, s: AsyncSession, provider: str, contact: Phone, at: datetime
    ) -> None:
        insert_of = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        stmt = insert_of(conversation_windows).values(
            provider=provider, contact=contact.e164, last_inbound_at=at
        )
        # The latest message keeps the window: an older one answered late does not shrink it.
        latest = case(
            (
                stmt.excluded.last_inbound_at > conversation_windows.c.last_inbound_at,
                stmt.excluded.last_inbound_at,
            ),
            else_=conversation_windows.c.last_inbound_at,
        )
        await s.execute(
            stmt.on_conflict_do_update(
                index_elements=[conversation_windows.c.provider, conversation_windows.c.contact],
                set_={"last_inbound_at": latest},
            )
        )

    async def _last_inbound_in(
        self, s: AsyncSession, provider: str, contact: Phone
    ) -> datetime | None:
        found: datetime | None = await s.scalar(
            select(conversation_windows.c.last_inbound_at).where(
                conversation_windows.c.provider == provider,
                conversation_windows.c.contact == contact.e164,
            )
        )
        return found

    async def _within_window(self, s: AsyncSession, delivery: Delivery) -> Delivery | None:
        """The delivery as it may be sent now, or None when the 24-hour rule refuses it.

        Inside the window the customer gets the reply's own words (any template is dropped);
        outside it only the template may go; a delivery without one goes by SMS when it names
        an SMS provider to fall back on (the row then says so), and otherwise fails for good.
        """
        if delivery.kind not in WINDOWED_KINDS:
            return delivery
        now = self._clock.now()
        last = await self._last_inbound_in(s, delivery.provider, Phone(delivery.to))
        if window_open(last, now):
            if not delivery.payload.get("template"):
                return delivery
            payload = {**delivery.payload, "template": None, "template_values": []}
            return dataclasses.replace(delivery, payload=payload)
        if delivery.payload.get("template"):
            return delivery
        fallback = delivery.payload.get("sms_fallback")
        if isinstance(fallback, str):
            sms = ChannelKind.SMS.value
            await s.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(provider=fallback, kind=sms, updated_at=now)
            )
            return dataclasses.replace(delivery, provider=fallback, kind=sms)
        await s.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery.id)
            .values(status=DeliveryStatus.FAILED.value, last_error=OUTSIDE_WINDOW, updated_at=now)
        )
        return None

    async def mark_sent(self, delivery_id: uuid.UUID, provider_message_id: str) -> None:
        async with self._db.transaction() as s:
            await s.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(
                    status=DeliveryStatus.SENT.value,
                    provider_message_id=provider_message_id,
                    attempts=deliveries.c.attempts + 1,
                    updated_at=self._clock.now(),
                )
            )

    async def mark_failed_permanently(self, delivery: Delivery, error: str) -> None:
        """The provider refused it for good. A WhatsApp message with an SMS provider to fall
        back on (a notice, a receipt) is queued again by SMS, due now, as when its failure is
        reported later: a refusal at send time (131047, her window closed by Meta's count;
        131026, undeliverable) must not leave her untold."""
        async with self._db.transaction() as s:
            fallback = delivery.payload.get("sms_fallback")
            if delivery.kind in WINDOWED_KINDS and isinstance(fallback, str):
                await self._requeue_by_sms_in(
                    s, delivery.id, fallback, f"{delivery.provider} refused it: {error}"[:1000]
                )
                return
            await s.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(
                    status=DeliveryStatus.FAILED.value,
                    attempts=delivery.attempts + 1,
                    last_error=error[:1000],
                    updated_at=self._clock.now(),
                )
            )

    async def mark_failed_attempt(self, delivery: Delivery, error: str) -> DeliveryStatus:
        """Schedule the next attempt with back-off, or give up after MAX_ATTEMPTS."""
        attempts = delivery.attempts + 1
        status = DeliveryStatus.FAILED if attempts >= MAX_ATTEMPTS else DeliveryStatus.QUEUED
        now = self._clock.now()
        async with self._db.transaction() as s:
            await s.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id)
                .values(
                    status=status.value,
                    attempts=attempts,
                    next_attempt_at=now + retry_delay(attempts),
                    leased_by=None,  # a back-off, waited out even by this worker
                    last_error=error[:1000],
                    updated_at=now,
                )
            )
        return status

    async def report(self, provider: str, provider_message_id: str, reported: str) -> bool:
        """A provider's delivery report; False when the message is not ours or the word unknown."""
        status = _REPORTED.get(reported.strip().lower())
        if status is None:
            return False
        async with self._db.transaction() as s:
            changed = None
            if status is DeliveryStatus.FAILED:
                changed = await self._fall_back_in(s, provider, provider_message_id)
            if changed is None:
                ours = (
                    deliveries.c.provider == provider,
                    deliveries.c.provider_message_id == provider_message_id,
                )
                # A late "sent" never overwrites "delivered" or "failed"; the same report
                # again (providers retry until answered) finds the status already there.
                changed = await s.scalar(
                    update(deliveries)
                    .where(
                        *ours,
                        deliveries.c.status.in_(_may_become(status)),
                        deliveries.c.status != status.value,
                    )
                    .values(status=status.value, updated_at=self._clock.now())
                    .returning(deliveries.c.kind)
                )
                if changed is None:
                    repeated = await s.scalar(
                        select(deliveries.c.id).where(*ours, deliveries.c.status == status.value)
                    )
                    return repeated is not None
        self.reports[(provider, changed, status.value)] += 1
        return True

    async def screen_sent(self, provider: str, provider_message_id: str) -> str | None:
        """The screen a message we sent showed (its reply's `screen`): a message quoting it
        answers that screen. None for one that is not ours or showed none."""
        async with self._db.transaction() as s:
            payload = (
                await s.execute(
                    select(deliveries.c.payload).where(
                        deliveries.c.provider == provider,
                        deliveries.c.provider_message_id == provider_message_id,
                    )
                )
            ).scalar()
        reply = payload.get("reply") if isinstance(payload, dict) else None
        screen = reply.get("screen") if isinstance(reply, dict) else None
        return screen if isinstance(screen, str) else None

    async def last_screen_sent(self, provider: str, to: Phone) -> tuple[str, str] | None:
        """The newest message sent to `to` that showed a screen (a reply, not a notice): its
        provider message id and screen. A reaction to any other message answers nothing."""
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(deliveries.c.provider_message_id, deliveries.c.payload)
                .where(
                    deliveries.c.provider == provider,
                    deliveries.c.to == to.e164,
                    deliveries.c.provider_message_id.is_not(None),
                )
                .order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
                .limit(RECENT_SENT)
            )
            for message_id, payload in rows:
                reply = payload.get("reply") if isinstance(payload, dict) else None
                screen = reply.get("screen") if isinstance(reply, dict) else None
                if isinstance(screen, str):
                    return str(message_id), screen
        return None

    async def _fall_back_in(
        self, s: AsyncSession, provider: str, provider_message_id: str
    ) -> str | None:
        """A WhatsApp message the provider took, then reported failed (its window closed by its
        count, the phone unreachable): one with an SMS provider to fall back on (a notice, a
        receipt) is queued again by SMS, due now, as it would have gone had the window been
        seen closed; its kind (the one that failed) when it was."""
        row = (
            await s.execute(
                select(deliveries.c.id, deliveries.c.kind, deliveries.c.payload).where(
                    deliveries.c.provider == provider,
                    deliveries.c.provider_message_id == provider_message_id,
                    deliveries.c.kind.in_(WINDOWED_KINDS),
                    deliveries.c.status.in_(_may_become(DeliveryStatus.FAILED)),
                )
            )
        ).first()
        fallback = row.payload.get("sms_fallback") if row is not None else None
        if row is None or not isinstance(fallback, str):
            return None
        await self._requeue_by_sms_in(s, row.id, fallback, f"{provider} reported it failed")
        return str(row.kind)

    async def _requeue_by_sms_in(
        self, s: AsyncSession, delivery_id: uuid.UUID, fallback: str, why: str
    ) -> None:
        now = self._clock.now()
        await s.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(
                provider=fallback,
                kind=ChannelKind.SMS.value,
                status=DeliveryStatus.QUEUED.value,
                provider_message_id=None,
                next_attempt_at=now,
                leased_by=None,
                last_error=f"{why}; sent by SMS instead",
                updated_at=now,
            )
        )

    async def for_recipient(self, to: Phone) -> list[Delivery]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(deliveries)
                .where(deliveries.c.to == to.e164)
                .order_by(deliveries.c.created_at, deliveries.c.id)
            )
            return [_delivery(r) for r in rows]

    async def latest_for(self, to: Phone, limit: int) -> list[Delivery]:
        """What was queued for `to`, newest first: at most `limit` of them."""
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(deliveries)
                .where(deliveries.c.to == to.e164)
                .order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
                .limit(limit)
            )
            return [_delivery(r) for r in rows]


def _may_become(status: DeliveryStatus) -> Sequence[str]:
    if status is DeliveryStatus.SENT:
        return [DeliveryStatus.SENT.value]
    return [DeliveryStatus.SENT.value, DeliveryStatus.QUEUED.value, status.value]


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=r.id,
        provider=r.provider,
        kind=r.kind,
        to=r.to,
        payload=dict(r.payload),
        dedupe_key=r.dedupe_key,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        provider_message_id=r.provider_message_id,
        last_error=r.last_error,
        created_at=r.created_at,
    )
