"""Deliveries: outbound messages queued with the change that caused them, sent and tracked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=2)
LONGEST_RETRY = timedelta(minutes=10)

# WhatsApp's customer service window: a business may send free-form messages only within 24
# hours of the customer's last message to it; outside it, only an approved template.
SERVICE_WINDOW = timedelta(hours=24)
WINDOWED_KINDS = frozenset({"whatsapp"})
OUTSIDE_WINDOW = (
    "not sent: more than 24 hours since the customer last wrote, and no template to send instead"
)


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider's delivery report says it arrived
    FAILED = "failed"  # the provider reported failure, or we gave up retrying
    # not sent on purpose: the customer opted out (STOP) of notifications, or it was withdrawn
    # before it went (a delivery code for an order cancelled meanwhile)
    SUPPRESSED = "suppressed"


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 2 s, 4 s, 8 s … capped at ten minutes."""
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(LONGEST_RETRY, delay)


def window_open(last_inbound: datetime | None, now: datetime) -> bool:
    """Whether a free-form message may still be sent to a customer who last wrote at
    `last_inbound` (None: never)."""
    return last_inbound is not None and now - last_inbound < SERVICE_WINDOW


@dataclass(frozen=True, slots=True)
class Delivery:
    id: uuid.UUID
    provider: str
    kind: str
    to: str
    payload: dict[str, object]
    dedupe_key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
