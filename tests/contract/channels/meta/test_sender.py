"""Sending through the Graph API, and WhatsApp's 24-hour rule on the way out.

Within 24 hours of the customer's last message a reply goes as the rendered Reply; after that
only an approved template may go, and a message without one is refused for good (no retries).
Every case asserts the exact request the fake Graph API received, or that it received none.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from channels.meta import make_sender
from channels.meta.graph import GraphApiError
from channels.meta.sender import MetaSendError, MetaWhatsAppSender
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.messages import ChannelKind, Option, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import Delivery, DeliveryStatus
from tests.support.providers.meta import WEBHOOK_PATH, FakeGraphApi, webhook_headers

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
HOUR = 3600
DAY = 24 * HOUR


def order_update(
    to: Phone = NGOZI,
    *,
    locale: str = "en",
    template: str | None = "order_update",
    key: str = "order-dispatched:1",
) -> OutboundMessage:
    """A notification (not an answer to a message): an order's new status."""
    return OutboundMessage(
        provider="meta",
        kind=ChannelKind.WHATSAPP,
        to=to,
        reply=Reply("Order W62ACJ is on its way.", locale=locale),
        dedupe_key=key,
        template=template,
        template_values=("W62ACJ", "dispatched") if template else (),
    )


def body(to: Phone, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.digits,
        **content,
    }


def template_body(to: Phone, language: str) -> dict[str, Any]:
    return body(
        to,
        {
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "W62ACJ"},
                            {"type": "text", "text": "dispatched"},
                        ],
                    }
                ],
            },
        },
    )


async def only(services: Services, to: Phone = NGOZI) -> Delivery:
    [delivery] = await services.notifications.for_recipient(to)
    return delivery


@pytest.mark.parametrize(("to", "locale"), [(NGOZI, "en"), (JUMA, "sw")])
async def test_notification_to_a_customer_who_never_wrote_goes_as_its_template(
    services: Services, fake_graph: FakeGraphApi, to: Phone, locale: str
) -> None:
    await services.notifications.queue(order_update(to, locale=locale))

    assert await services.delivery.send_due() == 1

    [request] = fake_graph.requests
    assert request.json == template_body(to, locale)
    delivery = await only(services, to)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_message_id == fake_graph.sent[0].id


async def test_notification_within_24_hours_of_her_message_goes_as_words_not_template(
    gateway: TestClient[web.Request, web.Application],
    services: Services,
    fake_graph: FakeGraphApi,
    clock: SteppedClock,
) -> None:
    hello = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":'
        b'[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":'
        b'"2348090000000","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":'
        b'"Ngozi Okafor"},"wa_id":"2348030000001"}],"messages":[{"from":"2348030000001","id":'
        b'"wamid.HBgNMjM0ODAzMDAwMDAwMRUCABIYFEE3QjlDMDFEMkUzRjQ1NjdBODlCAA==","timestamp":'
        b'"1767603600","type":"text","text":{"body":"status"}}]},"field":"messages"}]}]}'
    )
    response = await gateway.post(WEBHOOK_PATH, data=hello, headers=webhook_headers(hello))
    assert response.status == 200
    await services.delivery.send_due()
    clock.advance(DAY - 60)

    await services.notifications.queue(order_update())
    assert await services.delivery.send_due() == 1

    assert fake_graph.requests[-1].json == body(
        NGOZI,
        {"type": "text", "text": {"preview_url": False, "body": "Order W62ACJ is on its way."}},
    )


async def test_free_form_message_outside_the_window_is_refused_once_and_never_retried(
    services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    await services.notifications.record_inbound("meta", NGOZI)
    clock.advance(DAY)

    await services.notifications.queue(order_update(template=None))
    assert await services.delivery.send_due() == 0
    clock.advance(HOUR)
    assert await services.delivery.send_due() == 0

    assert fake_graph.requests == []
    delivery = await only(services)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 0
    assert delivery.last_error == (
        "not sent: more than 24 hours since the customer last wrote, and no template to send "
        "instead"
    )


async def test_the_window_closes_exactly_24_hours_after_her_last_message(
    services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    await services.notifications.record_inbound("meta", NGOZI)
    clock.advance(DAY - 1)
    await services.notifications.queue(order_update(template=None, key="just-inside"))
    assert await services.delivery.send_due() == 1

    clock.advance(1)
    await services.notifications.queue(order_update(template=None, key="just-outside"))
    assert await services.delivery.send_due() == 0

    assert len(fake_graph.requests) == 1
    statuses = {d.dedupe_key: d.status for d in await services.notifications.for_recipient(NGOZI)}
    assert statuses == {"just-inside": DeliveryStatus.SENT, "just-outside": DeliveryStatus.FAILED}


async def test_each_new_message_from_her_reopens_the_window(
    services: Services, clock: SteppedClock
) -> None:
    await services.notifications.record_inbound("meta", NGOZI)
    first = clock.now()
    clock.advance(DAY * 3)
    await services.notifications.record_inbound("meta", NGOZI)

    assert await services.notifications.last_inbound("meta", NGOZI) == clock.now() != first
    assert await services.notifications.last_inbound("twilio", NGOZI) is None


async def test_graph_error_keeps_the_delivery_queued_for_a_retry_that_succeeds(
    services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    fake_graph.fail_next(http_status=503, code=2)
    await services.notifications.queue(order_update())

    assert await services.delivery.send_due() == 0
    waiting = await only(services)
    assert waiting.status is DeliveryStatus.QUEUED
    assert waiting.attempts == 1
    assert "HTTP 503 code 2" in (waiting.last_error or "")

    clock.advance(2)
    assert await services.delivery.send_due() == 1
    assert (await only(services)).status is DeliveryStatus.SENT
    assert fake_graph.requests[0].json == fake_graph.requests[1].json


async def test_an_undeliverable_message_fails_at_once_instead_of_retrying(
    services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    fake_graph.fail_next(http_status=400, code=131026, message="Message undeliverable")
    await services.notifications.queue(order_update())

    assert await services.delivery.send_due() == 0
    failed = await only(services)
    assert failed.status is DeliveryStatus.FAILED
    assert failed.attempts == 1
    clock.advance(3600)
    assert await services.delivery.send_due() == 0
    assert len(fake_graph.requests) == 1


async def test_wrong_access_token_is_refused_by_the_graph_api(
    database_url: str, fake_graph: FakeGraphApi
) -> None:
    sender = MetaWhatsAppSender.from_settings(
        fake_graph.settings(database_url, meta_access_token="EAAwrong")
    )
    assert sender is not None
    try:
        with pytest.raises(GraphApiError) as refused:
            await sender.send(order_update())
    finally:
        await sender.close()

    assert refused.value.status == 401
    assert refused.value.code == 190
    assert fake_graph.sent == []


async def test_sender_refuses_messages_of_other_kinds(
    database_url: str, fake_graph: FakeGraphApi
) -> None:
    sender = make_sender(fake_graph.settings(database_url))
    assert sender is not None
    sms = OutboundMessage("meta", ChannelKind.SMS, NGOZI, Reply("hello"), dedupe_key="sms:1")
    try:
        with pytest.raises(MetaSendError):
            await sender.send(sms)
    finally:
        await sender.close()
    assert fake_graph.requests == []


@pytest.mark.parametrize(
    "missing", [{"meta_access_token": None}, {"meta_phone_number_id": None}], ids=["token", "id"]
)
def test_no_sender_without_access_token_and_phone_number_id(
    database_url: str, fake_graph: FakeGraphApi, missing: dict[str, None]
) -> None:
    assert make_sender(fake_graph.settings(database_url, **missing)) is None


async def test_reply_with_options_is_sent_as_reply_buttons(
    services: Services, fake_graph: FakeGraphApi
) -> None:
    await services.notifications.queue(
        OutboundMessage(
            provider="meta",
            kind=ChannelKind.WHATSAPP,
            to=NGOZI,
            reply=Reply(
                "Place order for NGN 26,993.25, pay on delivery?",
                (Option("1", "Confirm"), Option("2", "Cancel"), Option("0", "Back")),
            ),
            dedupe_key="meta-reply:wamid.confirm",
            reply_to="wamid.confirm",
        )
    )

    assert await services.delivery.send_due() == 1

    assert fake_graph.requests[0].json == body(
        NGOZI,
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Place order for NGN 26,993.25, pay on delivery?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "1", "title": "Confirm"}},
                        {"type": "reply", "reply": {"id": "2", "title": "Cancel"}},
                        {"type": "reply", "reply": {"id": "0", "title": "Back"}},
                    ]
                },
            },
        },
    )
