"""Answering a WhatsApp user Meta identifies only by business-scoped user ID (no phone number).

Meta withholds the phone number of a user who has adopted a username and has not messaged the
business before; `from` and `wa_id` are then missing and only `from_user_id`/`user_id` (a BSUID,
`NG.1502576394655843`) identifies them. Carts, customers and orders are kept by phone number, so
the shopping dialog cannot serve them; they get one message saying so, sent to the BSUID through
the Graph API's `recipient` field. It goes straight out (not through the deliveries outbox,
whose recipients are phone numbers), after the webhook has been answered, and once per message
id even when Meta redelivers the webhook to this process.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import structlog

from channels.meta.sender import MetaWhatsAppSender
from core.messages import PermanentSendError, Reply

log = structlog.get_logger(__name__)

REMEMBERED_IDS = 10_000
CLOSE_WAIT_SECONDS = 5.0
RETRY_DELAYS = (1.0, 5.0, 25.0)  # seconds before each further attempt


class UserIdReplies:
    def __init__(self, sender: MetaWhatsAppSender | None) -> None:
        self._sender = sender
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def answer(self, message_id: str, user_id: str, reply: Reply) -> bool:
        """Send `reply` soon; False when this message was answered already (or cannot be)."""
        if message_id in self._answered:
            return False
        self._answered[message_id] = None
        while len(self._answered) > REMEMBERED_IDS:
            self._answered.popitem(last=False)
        if self._sender is None:
            log.warning("meta.user_id_unanswered", reason="no access token or phone number id")
            return False
        task = asyncio.create_task(self._send(self._sender, message_id, user_id, reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def close(self) -> None:
        if self._tasks:
            _done, waiting = await asyncio.wait(set(self._tasks), timeout=CLOSE_WAIT_SECONDS)
            for task in waiting:  # still retrying: given up, as on any stop
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
        if self._sender is not None:
            await self._sender.close()

    @staticmethod
    async def _send(
        sender: MetaWhatsAppSender, message_id: str, user_id: str, reply: Reply
    ) -> None:
        for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
            try:
                sent = await sender.send_to_user_id(user_id, reply)
            except PermanentSendError:
                log.exception("meta.user_id_reply_refused", reply_to=message_id)
                return
            except Exception:
                if delay is None:
                    log.exception("meta.user_id_reply_failed", reply_to=message_id)
                    return
                log.warning(
                    "meta.user_id_reply_retried",
                    reply_to=message_id,
                    attempt=attempt,
                    exc_info=True,
                )
                await asyncio.sleep(delay)
            else:
                log.info("meta.user_id_replied", reply_to=message_id, provider_message_id=sent)
                return
