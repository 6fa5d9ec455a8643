"""Africa's Talking delivery reports: the delivery row follows the report; anything else is a 200
that changes nothing, so Africa's Talking never retries a report forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from engines.notifications import DeliveryStatus
from tests.support.providers.africastalking import (
    FakeAfricasTalking,
    deliveries,
    flush_outbox,
    message_id,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
SMS = "/channels/africastalking/sms"
DELIVERY = "/channels/africastalking/sms/delivery"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NGOZI = Phone("+2348030000001")

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.form").read_bytes()


async def post(client: Client, body: bytes, path: str = DELIVERY) -> ClientResponse:
    return await client.post(path, data=body, headers=FORM)


async def status_of_the_reply(services: Services) -> DeliveryStatus:
    [delivery] = await services.notifications.for_recipient(NGOZI)
    return delivery.status


@pytest.fixture
async def sent_reply(gateway: Client, services: Services) -> str:
    """Ngozi texted; our reply went out and Africa's Talking gave it the fake's first id."""
    response = await post(gateway, stored("first_message"), SMS)
    assert response.status == 200
    assert await flush_outbox(services) == 1
    assert await status_of_the_reply(services) is DeliveryStatus.SENT
    return message_id(1)


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("delivery_success", DeliveryStatus.DELIVERED),
        ("delivery_failed", DeliveryStatus.FAILED),
        ("delivery_rejected", DeliveryStatus.FAILED),
        # Queued at the operator: still just "sent" as far as we can tell.
        ("delivery_buffered", DeliveryStatus.SENT),
    ],
)
async def test_delivery_report_moves_the_delivery_to_its_status(
    gateway: Client, services: Services, sent_reply: str, fixture: str, status: DeliveryStatus
) -> None:
    assert f"id={sent_reply}&".encode() in stored(fixture)

    response = await post(gateway, stored(fixture))

    assert response.status == 200
    assert await response.text() == "OK"
    assert await status_of_the_reply(services) is status


async def test_late_buffered_report_does_not_undo_delivered(
    gateway: Client, services: Services, sent_reply: str
) -> None:
    await post(gateway, stored("delivery_success"))

    response = await post(gateway, stored("delivery_buffered"))

    assert response.status == 200
    assert await status_of_the_reply(services) is DeliveryStatus.DELIVERED


async def test_report_for_a_message_that_is_not_ours_is_a_200_that_changes_nothing(
    gateway: Client, services: Services, sent_reply: str
) -> None:
    before = await deliveries(services)

    response = await post(gateway, stored("delivery_unknown_id"))

    assert response.status == 200
    assert await response.text() == "OK"
    assert await deliveries(services) == before


async def test_report_without_an_id_is_a_400_that_changes_nothing(
    gateway: Client, services: Services, sent_reply: str
) -> None:
    before = await deliveries(services)

    response = await post(gateway, stored("delivery_missing_id"))

    assert response.status == 400
    assert await response.text() == "Bad request: id is required\n"
    assert await deliveries(services) == before
