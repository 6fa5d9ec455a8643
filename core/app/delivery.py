"""The delivery worker: hands queued messages to each provider's sender, with back-off."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping

import structlog

from core.ids import worker_id
from core.loops import BackgroundLoop
from core.messages import MessageSender, PermanentSendError
from engines.notifications import Delivery, DeliveryStatus, NotificationService, message_of

log = structlog.get_logger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        notifications: NotificationService,
        senders: Mapping[str, MessageSender],
        *,
        poll_seconds: float = 0.5,
    ) -> None:
        self._notifications = notifications
        self._senders = senders
        self._poll = poll_seconds
        self._loop = BackgroundLoop("delivery-worker")
        # The name its send leases carry, and one pass at a time: a lease in its name found
        # by its next pass is one it lost, taken back at once (`NotificationService.due`).
        self.owner = worker_id()
        self._one_pass = asyncio.Lock()
        # Each attempt's outcome by (provider, kind, outcome): sent, refused (for good),
        # retrying, gave_up (its last attempt failed). /metrics reads it.
        self.outcomes: Counter[tuple[str, str, str]] = Counter()

    def wake(self) -> None:
        self._loop.wake()

    async def send_due(self) -> int:
        """One pass over the due deliveries; returns how many a provider accepted."""
        async with self._one_pass:
            return await self._send_pass()

    async def _send_pass(self) -> int:
        accepted = 0
        for claimed in await self._notifications.due(worker=self.owner):
            delivery = await self._notifications.renew(claimed)
            if delivery is None:
                log.info("delivery.lease_lost", provider=claimed.provider)
                continue  # its lease ran out while the batch went out: another worker sends it
            sender = self._senders.get(delivery.provider)
            if sender is None:
                log.warning("delivery.no_sender", provider=delivery.provider)
                status = await self._notifications.mark_failed_attempt(
                    delivery, f"no sender configured for {delivery.provider}"
                )
                self._count(delivery, _failed(status))
                continue
            try:
                provider_id = await sender.send(message_of(delivery))
            except PermanentSendError as exc:
                await self._notifications.mark_failed_permanently(delivery, repr(exc))
                log.warning("delivery.refused", provider=delivery.provider, error=str(exc))
                self._count(delivery, "refused")
                continue
            except Exception as exc:
                status = await self._notifications.mark_failed_attempt(delivery, repr(exc))
                log.warning("delivery.failed", provider=delivery.provider, status=status)
                self._count(delivery, _failed(status))
                continue
            await self._notifications.mark_sent(delivery.id, provider_id)
            self._count(delivery, "sent")
            accepted += 1
        return accepted

    def _count(self, delivery: Delivery, outcome: str) -> None:
        self.outcomes[(delivery.provider, delivery.kind, outcome)] += 1

    async def run(self) -> None:
        while self._loop.running:
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery.pass_failed")
            await self._loop.pause(self._poll)

    def start(self) -> None:
        self._loop.start(self.run)

    async def stop(self) -> None:
        """Lets a pass in flight finish: a message handed to a provider is also marked sent."""
        await self._loop.stop()


def _failed(status: DeliveryStatus) -> str:
    """A failed attempt's outcome: tried again later, or the last one (the message is lost)."""
    return "gave_up" if status is DeliveryStatus.FAILED else "retrying"
