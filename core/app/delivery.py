"""The delivery worker: hands queued messages to each provider's sender, with back-off."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog

from core.messages import MessageSender, PermanentSendError
from engines.notifications import NotificationService, message_of

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
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def send_due(self) -> int:
        """One pass over the due deliveries; returns how many a provider accepted."""
        accepted = 0
        for delivery in await self._notifications.due():
            sender = self._senders.get(delivery.provider)
            if sender is None:
                await self._notifications.mark_failed_attempt(
                    delivery, f"no sender configured for {delivery.provider}"
                )
                continue
            try:
                provider_id = await sender.send(message_of(delivery))
            except PermanentSendError as exc:
                await self._notifications.mark_failed_permanently(delivery, repr(exc))
                log.warning("delivery.refused", provider=delivery.provider, error=str(exc))
                continue
            except Exception as exc:
                status = await self._notifications.mark_failed_attempt(delivery, repr(exc))
                log.warning("delivery.failed", provider=delivery.provider, status=status)
                continue
            await self._notifications.mark_sent(delivery.id, provider_id)
            accepted += 1
        return accepted

    async def run(self) -> None:
        while True:
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery.pass_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="delivery-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
