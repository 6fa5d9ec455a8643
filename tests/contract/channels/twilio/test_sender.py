"""Outbound messages through Twilio's Messages API, asserted as the fake API received them.

The sender is the twilio SDK's, pointed at the fake by OMNIROUTE_TWILIO_BASE_URL; nothing here
leaves the loopback interface (pytest-socket would refuse it).
"""

from __future__ import annotations

import json

import pytest

from channels.twilio.sender import RebasedHttpClient, TwilioSender
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.messages import ChannelKind, Option, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import Delivery, DeliveryStatus, retry_delay
from tests.support.providers.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SMS_NUMBER,
    STATUS_PATH,
    WHATSAPP_NUMBER,
    FakeTwilio,
    TwilioWebhooks,
    sid,
    status_body,
    twilio_settings,
)

NGOZI = Phone("+2348030000001")
CONFIRMATION = "OmniRoute: order W62ACJ placed, total NGN 26,993.25, pay on delivery."


def outbound(
    kind: ChannelKind = ChannelKind.SMS, *, key: str = "test-sender:1", **fields: object
) -> OutboundMessage:
    values: dict[str, object] = {
        "provider": "twilio",
        "kind": kind,
        "to": NGOZI,
        "reply": Reply(CONFIRMATION, end=True),
        "dedupe_key": key,
        **fields,
    }
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def only_delivery(services: Services) -> Delivery:
    [found] = await services.notifications.for_recipient(NGOZI)
    return found


async def test_queued_sms_is_sent_with_the_sdk_to_the_messages_api(
    services: Services, fake_twilio: FakeTwilio
) -> None:
    await services.notifications.queue(outbound())

    assert await services.delivery.send_due() == 1

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.fields == {
        "To": NGOZI.e164,
        "From": SMS_NUMBER,
        "Body": CONFIRMATION,
        "StatusCallback": f"{services.settings.public_url}{STATUS_PATH}",
    }
    [sent] = fake_twilio.sent
    delivery = await only_delivery(services)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_message_id == sent.sid
    assert delivery.provider_message_id.startswith("SM")
    assert await services.delivery.send_due() == 0
    assert len(fake_twilio.requests) == 1


async def test_whatsapp_message_goes_between_whatsapp_addresses_as_numbered_text(
    services: Services, fake_twilio: FakeTwilio
) -> None:
    """A reply to the customer's WhatsApp message, so inside WhatsApp's 24-hour window."""
    reply = Reply("Your order W62ACJ is on its way.", (Option("1", "Track"), Option("2", "Help")))
    await services.notifications.queue(
        outbound(ChannelKind.WHATSAPP, reply=reply, reply_to=sid("SM", "customer-wrote"))
    )

    assert await services.delivery.send_due() == 1

    [request] = fake_twilio.requests
    assert request.fields["To"] == f"whatsapp:{NGOZI.e164}"
    assert request.fields["From"] == f"whatsapp:{WHATSAPP_NUMBER}"
    assert request.fields["Body"] == "Your order W62ACJ is on its way.\n1. Track\n2. Help"


async def test_template_is_sent_as_a_content_sid_with_numbered_variables(
    services: Services, fake_twilio: FakeTwilio
) -> None:
    message = outbound(
        ChannelKind.WHATSAPP,
        template="HXb5b62575e6e4ff6129ad7c8efe1f983e",
        template_values=("W62ACJ", "NGN 26,993.25"),
    )
    await services.notifications.queue(message)

    assert await services.delivery.send_due() == 1

    [request] = fake_twilio.requests
    assert "Body" not in request.fields
    assert request.fields["ContentSid"] == "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert json.loads(request.fields["ContentVariables"]) == {"1": "W62ACJ", "2": "NGN 26,993.25"}


async def test_refused_send_is_retried_with_back_off_and_then_sent(
    services: Services, fake_twilio: FakeTwilio, clock: SteppedClock
) -> None:
    await services.notifications.queue(outbound())
    fake_twilio.fail_next(503, 20503, "Service unavailable")

    assert await services.delivery.send_due() == 0

    delivery = await only_delivery(services)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert delivery.last_error is not None
    assert "Service unavailable" in delivery.last_error
    assert await services.delivery.send_due() == 0  # not due before its back-off
    clock.advance(retry_delay(1).total_seconds())
    assert await services.delivery.send_due() == 1
    assert (await only_delivery(services)).status is DeliveryStatus.SENT
    assert len(fake_twilio.requests) == 2
    assert len(fake_twilio.sent) == 1
    # what the operators' dashboard graphs (and alerts on) for Twilio's SMS
    assert services.delivery.outcomes == {
        ("twilio", "sms", "retrying"): 1,
        ("twilio", "sms", "sent"): 1,
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21610, "Attempt to send to unsubscribed recipient"),
        (21211, "The 'To' number +2348030000001 is not a valid phone number."),
    ],
)
async def test_a_refusal_no_retry_can_change_fails_the_delivery_at_once(
    services: Services, fake_twilio: FakeTwilio, clock: SteppedClock, code: int, message: str
) -> None:
    """A retailer who texted STOP to the Twilio number is not asked about eight more times."""
    await services.notifications.queue(outbound())
    fake_twilio.fail_next(400, code, message)

    assert await services.delivery.send_due() == 0

    delivery = await only_delivery(services)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error is not None
    assert str(code) in delivery.last_error
    clock.advance(retry_delay(1).total_seconds())
    assert await services.delivery.send_due() == 0
    assert len(fake_twilio.requests) == 1
    assert services.delivery.outcomes == {("twilio", "sms", "refused"): 1}


async def test_wrong_auth_token_is_refused_by_twilio_and_the_delivery_retried(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    sender = TwilioSender.from_settings(
        fake_twilio.settings(database_url, twilio_auth_token="0" * 32)
    )
    assert sender is not None
    try:
        with pytest.raises(Exception, match="Authenticate"):
            await sender.send(outbound())
    finally:
        await sender.close()
    assert fake_twilio.requests[0].basic_auth == (ACCOUNT_SID, "0" * 32)
    assert fake_twilio.sent == []


async def test_sent_message_is_marked_delivered_by_its_status_callback(
    twilio: TwilioWebhooks, services: Services, fake_twilio: FakeTwilio
) -> None:
    await services.notifications.queue(outbound())
    await services.delivery.send_due()
    [sent] = fake_twilio.sent
    assert sent.status_callback == twilio.url(STATUS_PATH)

    response = await twilio.post(STATUS_PATH, status_body(sent.sid, "delivered", to=NGOZI.e164))

    assert response.status == 204
    assert (await only_delivery(services)).status is DeliveryStatus.DELIVERED


def test_no_sender_without_the_account_sid_and_auth_token(database_url: str) -> None:
    assert (
        TwilioSender.from_settings(twilio_settings(database_url, twilio_account_sid=None)) is None
    )
    assert TwilioSender.from_settings(twilio_settings(database_url, twilio_auth_token=None)) is None
    assert TwilioSender.from_settings(twilio_settings(database_url, twilio_auth_token="")) is None


async def test_without_a_public_url_no_status_callback_is_asked_for(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    sender = TwilioSender.from_settings(fake_twilio.settings(database_url, public_url=None))
    assert sender is not None
    try:
        message_sid = await sender.send(outbound())
    finally:
        await sender.close()

    assert message_sid == fake_twilio.sent[0].sid
    assert "StatusCallback" not in fake_twilio.requests[0].fields


async def test_sms_without_a_sender_number_fails_with_the_variable_to_set(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    sender = TwilioSender.from_settings(fake_twilio.settings(database_url, twilio_sms_from=None))
    assert sender is not None
    try:
        with pytest.raises(RuntimeError, match="OMNIROUTE_TWILIO_SMS_FROM is not set"):
            await sender.send(outbound())
    finally:
        await sender.close()
    assert fake_twilio.requests == []


@pytest.mark.parametrize(
    ("url", "rebased"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (  # TWILIO_EDGE/TWILIO_REGION rename the host; it is still Twilio's
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1",
            "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json?x=1",
        ),
        ("https://example.com/media.jpg", "https://example.com/media.jpg"),
        ("https://nottwilio.com/a", "https://nottwilio.com/a"),
    ],
)
def test_base_url_replaces_twilio_hosts_only(url: str, rebased: str) -> None:
    assert RebasedHttpClient("http://127.0.0.1:9/").rebase(url) == rebased


def test_without_a_base_url_the_sdk_addresses_twilio_itself() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert RebasedHttpClient(None).rebase(url) == url
