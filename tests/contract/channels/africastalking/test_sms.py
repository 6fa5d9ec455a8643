"""Africa's Talking incoming SMS, byte for byte: the 200 at once, the reply queued and sent once.

The bodies live in fixtures/sms/*.form (see fixtures/SOURCES.md); further messages are built by
`incoming_sms_body`, which is first shown to reproduce the stored fixtures exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.conversation import Session
from core.phone import Phone
from core.region import region_for_phone
from engines.notifications import Delivery, DeliveryStatus
from tests.support.phone import database_rows
from tests.support.providers.africastalking import (
    API_KEY,
    MESSAGING_PATH,
    SHORTCODE,
    USERNAME,
    FakeAfricasTalking,
    deliveries,
    flush_outbox,
    incoming_sms_body,
    message_id,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sms"
SMS = "/channels/africastalking/sms"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
FIRST_ID = "3b1f6a2e-9c4d-4e8a-b7f0-5d2c1e8a9b46"
CHOICE_ID = "7e2d9c04-1a5b-4f3e-8c6d-2b9f0a1e7d53"
MAIN_MENU = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"
MAX_BODY = 8 * 1024

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.form").read_bytes()


async def post(client: Client, body: bytes) -> ClientResponse:
    return await client.post(SMS, data=body, headers=FORM)


async def accepted(response: ClientResponse) -> None:
    assert response.status == 200, await response.text()
    assert response.content_type == "text/plain"
    assert await response.text() == "OK"


async def session_of(services: Services, phone: Phone = NGOZI) -> Session | None:
    return await services.store.load(f"sms:{phone.e164}")


async def queued_for(services: Services, phone: Phone = NGOZI) -> list[Delivery]:
    return await services.notifications.for_recipient(phone)


def test_generated_bodies_match_the_stored_fixtures_byte_for_byte() -> None:
    assert incoming_sms_body("Hello", phone=NGOZI.e164, sms_id=FIRST_ID) == stored("first_message")
    assert incoming_sms_body(
        "1", phone=NGOZI.e164, sms_id=CHOICE_ID, date="2026-01-05 09:00:41"
    ) == stored("menu_choice")


async def test_first_sms_is_answered_at_once_and_its_reply_goes_out_through_the_api(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await accepted(await post(gateway, stored("first_message")))

    # Answered before anything is sent: the reply waits in the deliveries outbox.
    assert fake_at.requests == []
    [queued] = await queued_for(services)
    assert (queued.provider, queued.kind, queued.to) == ("africastalking", "sms", NGOZI.e164)
    assert queued.status is DeliveryStatus.QUEUED
    assert queued.dedupe_key == f"at-sms-reply:{FIRST_ID}"
    assert queued.payload["reply_to"] == FIRST_ID
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"

    assert await flush_outbox(services) == 1

    [request] = fake_at.requests
    assert (request.method, request.path) == ("POST", MESSAGING_PATH)
    assert request.headers["apiKey"] == API_KEY
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == [
        ("username", USERNAME),
        ("to", NGOZI.e164),
        ("message", MAIN_MENU),
        ("from", SHORTCODE),
    ]
    [sent] = await queued_for(services)
    assert sent.status is DeliveryStatus.SENT
    assert sent.provider_message_id == message_id(1)
    assert sent.attempts == 1


async def test_redelivered_sms_is_answered_once_and_applied_once(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    for _ in range(2):
        await accepted(await post(gateway, stored("first_message")))
    for _ in range(2):
        await accepted(await post(gateway, stored("menu_choice")))

    assert await flush_outbox(services) == 2
    menu, categories = (sms.message for sms in fake_at.sent)
    assert menu == MAIN_MENU
    assert categories.startswith("Choose a category:\n1. Noodles & Pasta")
    assert [d.dedupe_key for d in await queued_for(services)] == [
        f"at-sms-reply:{FIRST_ID}",
        f"at-sms-reply:{CHOICE_ID}",
    ]
    # The choice moved the conversation one step, not two.
    session = await session_of(services)
    assert session is not None
    assert session.state == "categories"
    await accepted(await post(gateway, incoming_sms_body("1", phone=NGOZI.e164, sms_id="third")))
    await flush_outbox(services)
    assert fake_at.sent[-1].message.startswith("Noodles & Pasta:\n1. Indomie Chicken")


async def test_redelivery_after_the_reply_was_sent_sends_nothing_more(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await accepted(await post(gateway, stored("first_message")))
    await flush_outbox(services)

    await accepted(await post(gateway, stored("first_message")))

    assert await flush_outbox(services) == 0
    assert len(fake_at.requests) == 1


@pytest.mark.parametrize(
    ("fixture", "phone", "reply"),
    [
        (
            "typed_order",
            NGOZI,
            "Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Yes\n2. No",
        ),
        (
            "typed_order_swahili",
            JUMA,
            "Ongeza 5 x Indomie Chicken 40x70g (KES 4,025.00)?\n1. Ndiyo\n2. Hapana",
        ),
    ],
)
async def test_order_typed_in_words_is_read_back_to_confirm_and_adds_nothing_yet(
    gateway: Client,
    services: Services,
    fake_at: FakeAfricasTalking,
    fixture: str,
    phone: Phone,
    reply: str,
) -> None:
    await accepted(await post(gateway, stored(fixture)))

    assert await flush_outbox(services) == 1
    [sent] = fake_at.sent
    assert (sent.to, sent.message) == (phone.e164, reply)
    session = await session_of(services, phone)
    assert session is not None
    assert session.state == "typed_confirm"
    cart = await services.orders.cart(phone, region_for_phone(phone).code)
    assert cart.is_empty


@pytest.mark.parametrize(
    ("fixture", "reply", "state"),
    [
        # Swahili words for a product (its aliases), a Swahili speaker's first text.
        (
            "typed_alias_swahili",
            "Ongeza 1 x Maize Flour 10kg (KES 1,015.00)?\n1. Ndiyo\n2. Hapana",
            "typed_confirm",
        ),
        # "mchele" is either rice, and no quantity: which one, then how many.
        (
            "typed_name_swahili",
            'Ipi kwa "mchele"?\n1. Basmati Rice 10kg KES 2,145\n'
            "2. Long Grain Rice 25kg KES 3,120\n0. Rudi",
            "typed_pick",
        ),
    ],
)
async def test_swahili_product_words_are_read_for_a_swahili_speaker(
    gateway: Client,
    services: Services,
    fake_at: FakeAfricasTalking,
    fixture: str,
    reply: str,
    state: str,
) -> None:
    await accepted(await post(gateway, stored(fixture)))

    assert await flush_outbox(services) == 1
    [sent] = fake_at.sent
    assert (sent.to, sent.message) == (JUMA.e164, reply)
    session = await session_of(services, JUMA)
    assert session is not None
    assert session.state == state
    assert (await services.orders.cart(JUMA, region_for_phone(JUMA).code)).is_empty


@dataclass(frozen=True)
class RejectCase:
    fixture: str
    reason: str


REJECTS = [
    RejectCase("missing_from", "Bad request: from is required\n"),
    RejectCase("invalid_from", "Bad request: from: '+2340000' is not a valid phone number\n"),
    RejectCase("missing_id", "Bad request: id is required\n"),
    RejectCase("missing_text", "Bad request: text is required\n"),
]


@pytest.mark.parametrize("case", REJECTS, ids=[c.fixture for c in REJECTS])
async def test_malformed_sms_callback_is_a_400_with_the_reason_and_changes_nothing(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking, case: RejectCase
) -> None:
    rows_before = await database_rows(services.db)

    response = await post(gateway, stored(case.fixture))

    assert response.status == 400
    assert response.content_type == "text/plain"
    assert await response.text() == case.reason
    assert await database_rows(services.db) == rows_before
    assert await deliveries(services) == []
    assert await session_of(services) is None
    assert await flush_outbox(services) == 0
    assert fake_at.requests == []


async def test_sms_body_over_8_kib_is_a_413_and_changes_nothing(
    gateway: Client, services: Services
) -> None:
    body = stored("first_message") + b"&padding=" + b"x" * MAX_BODY

    response = await post(gateway, body)

    assert response.status == 413
    assert "8192 bytes" in await response.text()
    assert await deliveries(services) == []
    assert await session_of(services) is None


async def test_stop_by_sms_opts_out_and_is_confirmed(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await accepted(await post(gateway, stored("keyword_stop")))
    await flush_outbox(services)

    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.opted_out
    [sms] = fake_at.sent_to(NGOZI.e164)
    assert sms.message == (
        "You will get no more messages from OmniRoute. Send START to get them again."
    )


async def test_stop_in_swahili_from_a_kenyan_phone_is_understood_on_the_first_message(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await accepted(await post(gateway, stored("keyword_swahili_stop")))
    await flush_outbox(services)

    customer = await services.customers.get(JUMA)
    assert customer is not None
    assert customer.opted_out
    [sms] = fake_at.sent_to(JUMA.e164)
    assert sms.message == "Hutapokea ujumbe zaidi kutoka OmniRoute. Tuma ANZA kupokea tena."
