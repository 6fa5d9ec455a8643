"""Twilio message status callbacks: each moves the delivery it names, and nothing else.

Stored bodies in fixtures/status/*.form (see fixtures/SOURCES.md); they all name the message
`SM9bf9…` that a delivery is marked as sent with first, as the sender would have.
"""

from __future__ import annotations

import uuid

import pytest

from core.app.bootstrap import Services
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import Delivery, DeliveryStatus
from tests.contract.channels.twilio.bodies import stored
from tests.support.providers.twilio import STATUS_PATH, TwilioWebhooks, sid, status_body

NGOZI = Phone("+2348030000001")
SENT_SID = sid("SM", "fixture-outbound-1")


async def sent_delivery(services: Services, message_sid: str = SENT_SID) -> uuid.UUID:
    """A delivery Twilio accepted as `message_sid`, as the sender leaves it."""
    await services.notifications.queue(
        OutboundMessage(
            provider="twilio",
            kind=ChannelKind.SMS,
            to=NGOZI,
            reply=Reply("OmniRoute: order W62ACJ placed.", end=True),
            dedupe_key=f"test-status:{message_sid}",
        )
    )
    [delivery] = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key == f"test-status:{message_sid}"
    ]
    await services.notifications.mark_sent(delivery.id, message_sid)
    return delivery.id


async def delivery(services: Services, delivery_id: uuid.UUID) -> Delivery:
    [found] = [d for d in await services.notifications.for_recipient(NGOZI) if d.id == delivery_id]
    return found


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.DELIVERED),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
    ],
)
async def test_status_callback_moves_the_delivery(
    twilio: TwilioWebhooks, services: Services, fixture: str, status: DeliveryStatus
) -> None:
    delivery_id = await sent_delivery(services)

    response = await twilio.post(STATUS_PATH, stored("status", fixture))

    assert response.status == 204
    assert await response.read() == b""
    found = await delivery(services, delivery_id)
    assert found.status is status
    assert found.provider_message_id == SENT_SID


async def test_late_sent_callback_does_not_undo_delivered(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio does not promise order: a `sent` arriving after `delivered` changes nothing."""
    delivery_id = await sent_delivery(services)
    await twilio.post(STATUS_PATH, stored("status", "delivered"))

    response = await twilio.post(STATUS_PATH, stored("status", "sent"))

    assert response.status == 204
    assert (await delivery(services, delivery_id)).status is DeliveryStatus.DELIVERED


async def test_callback_for_a_message_that_is_not_ours_is_204_and_changes_nothing(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """TwiML replies get callbacks too, and have no delivery: Twilio is still told all is well."""
    delivery_id = await sent_delivery(services)
    body = status_body(sid("SM", "someone-else"), "delivered", to=NGOZI.e164)

    response = await twilio.post(STATUS_PATH, body)

    assert response.status == 204
    assert (await delivery(services, delivery_id)).status is DeliveryStatus.SENT


async def test_callback_without_message_sid_is_a_400(
    twilio: TwilioWebhooks, services: Services
) -> None:
    delivery_id = await sent_delivery(services)

    response = await twilio.post(STATUS_PATH, stored("status", "missing_message_sid"))

    assert response.status == 400
    assert await response.text() == "Bad request: MessageSid is required\n"
    assert (await delivery(services, delivery_id)).status is DeliveryStatus.SENT


@pytest.mark.parametrize("signature", [None, "", "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ=="])
async def test_callback_without_a_valid_signature_is_403_and_changes_nothing(
    twilio: TwilioWebhooks, services: Services, signature: str | None
) -> None:
    delivery_id = await sent_delivery(services)

    response = await twilio.post(STATUS_PATH, stored("status", "failed"), signature=signature)

    assert response.status == 403
    assert (await delivery(services, delivery_id)).status is DeliveryStatus.SENT
