"""The SMS sender against the fake messaging API: the exact request, and retries on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

import channels.africastalking
from channels.africastalking.sender import AfricasTalkingSendError, AfricasTalkingSmsSender
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.messages import ChannelKind, Option, OutboundMessage, Reply
from core.phone import Phone
from engines.notifications import Delivery, DeliveryStatus
from tests.support.providers.africastalking import (
    API_KEY,
    MESSAGING_PATH,
    USERNAME,
    FakeAfricasTalking,
    flush_outbox,
    message_id,
)

NGOZI = Phone("+2348030000001")
FIRST_RETRY_SECONDS = 2

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    # No sender id: Africa's Talking then sends from its default (AFRICASTKNG).
    return fake_at.settings(database_url, africastalking_sender_id=None)


def notice(dedupe_key: str = "test-notice-1") -> OutboundMessage:
    return OutboundMessage(
        provider="africastalking",
        kind=ChannelKind.SMS,
        to=NGOZI,
        reply=Reply("Your order is on the way.", options=(Option("1", "Track"),)),
        dedupe_key=dedupe_key,
    )


async def the_delivery(services: Services) -> Delivery:
    [delivery] = await services.notifications.for_recipient(NGOZI)
    return delivery


async def test_sender_posts_the_documented_form_with_the_api_key(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await services.queue_outbound(notice())

    assert await flush_outbox(services) == 1

    [request] = fake_at.requests
    assert (request.method, request.path) == ("POST", MESSAGING_PATH)
    assert request.headers["apiKey"] == API_KEY
    assert request.headers["Accept"] == "application/json"
    assert request.form == [
        ("username", USERNAME),
        ("to", "+2348030000001"),
        ("message", "Your order is on the way.\n1. Track"),
    ]
    delivery = await the_delivery(services)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_message_id == message_id(1)


async def test_http_500_leaves_the_delivery_queued_and_a_later_pass_sends_it(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking, clock: SteppedClock
) -> None:
    fake_at.fail_next(500)
    await services.queue_outbound(notice())

    assert await flush_outbox(services) == 0

    delivery = await the_delivery(services)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert delivery.last_error is not None
    assert "HTTP 500" in delivery.last_error
    assert fake_at.sent == []
    # Not due again until the back-off has passed.
    assert await flush_outbox(services) == 0
    assert len(fake_at.requests) == 1

    clock.advance(FIRST_RETRY_SECONDS)
    assert await flush_outbox(services) == 1

    delivery = await the_delivery(services)
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert delivery.provider_message_id == message_id(1)
    assert len(fake_at.requests) == 2
    assert fake_at.requests[0].form == fake_at.requests[1].form


async def test_refused_recipient_is_retried_like_an_http_error(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking, clock: SteppedClock
) -> None:
    fake_at.refuse_next(405, "InsufficientBalance")
    await services.queue_outbound(notice())

    assert await flush_outbox(services) == 0

    delivery = await the_delivery(services)
    assert delivery.status is DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert delivery.last_error is not None
    assert "405 InsufficientBalance" in delivery.last_error
    clock.advance(FIRST_RETRY_SECONDS)
    assert await flush_outbox(services) == 1
    assert (await the_delivery(services)).status is DeliveryStatus.SENT


async def test_blacklisted_recipient_fails_at_once_instead_of_retrying(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking, clock: SteppedClock
) -> None:
    fake_at.refuse_next(406, "UserInBlacklist")
    await services.queue_outbound(notice())

    assert await flush_outbox(services) == 0

    delivery = await the_delivery(services)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "406 UserInBlacklist" in (delivery.last_error or "")
    clock.advance(FIRST_RETRY_SECONDS * 100)
    assert await flush_outbox(services) == 0
    assert len(fake_at.requests) == 1


async def test_wrong_api_key_is_refused_by_the_api_and_nothing_is_marked_sent(
    fake_at: FakeAfricasTalking,
) -> None:
    sender = AfricasTalkingSmsSender(
        api_url=fake_at.url, username=USERNAME, api_key=SecretStr("not-the-key")
    )
    try:
        with pytest.raises(AfricasTalkingSendError, match="HTTP 401"):
            await sender.send(notice())
    finally:
        await sender.close()
    assert fake_at.sent == []


async def test_sender_refuses_kinds_it_cannot_send(fake_at: FakeAfricasTalking) -> None:
    sender = AfricasTalkingSmsSender(
        api_url=fake_at.url, username=USERNAME, api_key=SecretStr(API_KEY)
    )
    voice = OutboundMessage(
        provider="africastalking",
        kind=ChannelKind.VOICE,
        to=NGOZI,
        reply=Reply("Hello"),
        dedupe_key="voice-1",
    )
    with pytest.raises(AfricasTalkingSendError, match="voice"):
        await sender.send(voice)
    await sender.close()
    assert fake_at.requests == []


async def test_sender_reuses_one_session_and_close_can_be_called_twice(
    fake_at: FakeAfricasTalking,
) -> None:
    sender = AfricasTalkingSmsSender(
        api_url=fake_at.url, username=USERNAME, api_key=SecretStr(API_KEY), sender_id="23456"
    )
    first = await sender.send(notice("a"))
    second = await sender.send(notice("b"))
    await sender.close()
    await sender.close()

    assert (first, second) == (message_id(1), message_id(2))
    assert [r.field("from") for r in fake_at.requests] == ["23456", "23456"]


def test_no_sender_without_an_api_key() -> None:
    settings = Settings(env="test", _env_file=None)
    assert channels.africastalking.make_sender(settings) is None


@pytest.mark.parametrize(
    ("values", "url"),
    [
        ({"africastalking_username": "sandbox"}, "https://api.sandbox.africastalking.com"),
        ({"africastalking_username": "omniroute"}, "https://api.africastalking.com"),
        (
            {"africastalking_username": "sandbox", "africastalking_base_url": "http://at.test/"},
            "http://at.test",
        ),
    ],
)
def test_sender_uses_the_configured_base_url(values: dict[str, Any], url: str) -> None:
    settings = Settings(
        env="test", africastalking_api_key=SecretStr(API_KEY), _env_file=None, **values
    )
    sender = channels.africastalking.make_sender(settings)
    assert isinstance(sender, AfricasTalkingSmsSender)
    assert sender.url == f"{url}/version1/messaging"
