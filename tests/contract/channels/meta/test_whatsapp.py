"""Meta's WhatsApp webhook, byte for byte: what each body changes and what goes back out.

The bodies live in fixtures/whatsapp/*.json (see fixtures/SOURCES.md) and are posted unchanged
with the signature Meta would compute; later messages of a conversation are built by
`message_body`, which is first shown to reproduce the stored fixtures exactly. Replies go out
through the deliveries outbox to the fake Graph API, whose received requests are asserted whole.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import select

import channels.meta
import channels.meta.user_ids
from channels.meta.signature import MissingAppSecretError
from channels.render.whatsapp import read_option_id
from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.notifications import DeliveryStatus
from engines.notifications.tables import conversation_windows, deliveries
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.phone import database_rows
from tests.support.providers.meta import (
    ACCESS_TOKEN,
    APP_SECRET,
    MESSAGES_PATH,
    VERIFY_TOKEN,
    WEBHOOK_PATH,
    FakeGraphApi,
    button_reply,
    list_reply,
    message_body,
    reaction,
    signature,
    status_body,
    text,
    wamid,
    webhook_headers,
)

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
SESSION_KEY = f"whatsapp:{NGOZI.e164}"
T0 = 1767603600  # 2026-01-05 09:00:00 UTC: the stepped clock's start, as in the fixtures
MENU_ID = wamid(NGOZI.e164, "fixture-menu", outgoing=True)
SENT_ID = wamid(NGOZI.e164, "fixture-ours_sent", outgoing=True)
FAILED_ID = wamid(NGOZI.e164, "fixture-ours_failed", outgoing=True)
BSUID = "NG.1502576394655843"
ATTACHMENT_NOTICE = (
    "Sorry, I can't read pictures, voice notes or files yet. Please type your answer or tap a "
    "choice."
)
MAIN_MENU_ROWS = [
    {"id": "1", "title": "Shop"},
    {"id": "2", "title": "Cart (0)"},
    {"id": "3", "title": "My orders"},
    {"id": "4", "title": "Language"},
    {"id": "5", "title": "Help"},
]

Client = TestClient[web.Request, web.Application]


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def ngozi_says(content: dict[str, Any], n: int, *, context: str | None = MENU_ID) -> bytes:
    """A later message of Ngozi's, laid out as the stored fixtures are: 30 seconds apart from
    the stored "hi", all before the stored button tap (a message older than the newest one
    applied arrived late and is not applied)."""
    return message_body(
        content,
        wa_id=NGOZI.digits,
        name="Ngozi Okafor",
        message_id=wamid(NGOZI.e164, f"later-{n}"),
        timestamp=T0 + 30 * n,
        context_id=context if content["type"] == "interactive" else None,
    )


async def post(client: Client, body: bytes, **headers: str) -> ClientResponse:
    return await client.post(WEBHOOK_PATH, data=body, headers={**webhook_headers(body), **headers})


async def ok(response: ClientResponse) -> None:
    assert response.status == 200, await response.text()
    assert await response.text() == "OK"


async def flush(services: Services) -> int:
    return await services.delivery.send_due()


async def session_state(services: Services) -> str | None:
    session = await services.store.load(SESSION_KEY)
    return None if session is None else session.state


async def everything(services: Services) -> dict[str, list[Any]]:
    """Every row a webhook may write, deliveries and conversation windows included."""
    rows = await database_rows(services.db)
    async with services.db.transaction() as s:
        rows["deliveries"] = [tuple(r) for r in await s.execute(select(deliveries))]
        rows["windows"] = [tuple(r) for r in await s.execute(select(conversation_windows))]
    return rows


def envelope_of(content: dict[str, Any], to: str = NGOZI.digits) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **content}


def untagged(message: dict[str, Any]) -> tuple[dict[str, Any], set[str | None]]:
    """The message with its rows' ids as bare option keys, and the screens those ids named."""
    copy = json.loads(json.dumps(message))
    screens: set[str | None] = set()
    for section in copy["interactive"]["action"]["sections"]:
        for row in section["rows"]:
            row["id"], screen = read_option_id(row["id"])
            screens.add(screen)
    return copy, screens


def main_menu(to: str = NGOZI.digits) -> dict[str, Any]:
    return envelope_of(
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Welcome to OmniRoute"},
                "action": {"button": "Choose", "sections": [{"rows": MAIN_MENU_ROWS}]},
            },
        },
        to,
    )


def test_generated_bodies_match_the_stored_fixtures_byte_for_byte() -> None:
    def says(content: dict[str, Any], name: str, seconds: int, context: str | None) -> bytes:
        return message_body(
            content,
            wa_id=NGOZI.digits,
            name="Ngozi Okafor",
            message_id=wamid(NGOZI.e164, f"fixture-{name}"),
            timestamp=T0 + seconds,
            context_id=context,
        )

    assert says(text("hi"), "text", -5, None) == stored("text")
    assert says(list_reply("1", "Shop"), "list_reply", 20, MENU_ID) == stored("list_reply")
    assert says(button_reply("00", "Back"), "button_reply", 95, MENU_ID) == stored("button_reply")
    assert says(reaction(MENU_ID, "\U0001f44d"), "reaction", 30, None) == stored("reaction")
    delivered = status_body(SENT_ID, "delivered", recipient=NGOZI.digits, timestamp=T0 + 3)
    assert delivered == stored("status_delivered")
    assert status_body(SENT_ID, "read", recipient=NGOZI.digits, timestamp=T0 + 9) == stored(
        "status_read"
    )


# --- the verification handshake ------------------------------------------------------------------


async def test_verification_handshake_answers_the_challenge_as_plain_text(gateway: Client) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": VERIFY_TOKEN,
    }

    response = await gateway.get(WEBHOOK_PATH, params=query)

    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {
            "hub.mode": "unsubscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": VERIFY_TOKEN,
        },
        {"hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
        {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN[:-1]},
    ],
    ids=["wrong-token", "no-token", "unsubscribe", "no-mode", "token-prefix"],
)
async def test_verification_without_the_right_token_is_403(
    gateway: Client, query: dict[str, str]
) -> None:
    response = await gateway.get(WEBHOOK_PATH, params=query)

    assert response.status == 403
    assert "1158201444" not in await response.text()


# --- incoming messages, one stored body each -----------------------------------------------------


@dataclass(frozen=True)
class IncomingCase:
    """A stored body posted as Meta would (after `after`), and what must come of it."""

    fixture: str
    after: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()  # the start of each reply's text the fake then receives
    session_state: str | None = None


CASES = [
    IncomingCase("text", replies=("Welcome to OmniRoute",), session_state="main"),
    IncomingCase(
        "list_reply", after=("text",), replies=("Choose a category:",), session_state="categories"
    ),
    IncomingCase(
        "quick_reply", after=("text",), replies=("You have no orders yet.",), session_state="orders"
    ),
    # No dialog step takes a location yet: it is read as text (no order), so the menu again.
    IncomingCase(
        "location",
        after=("text",),
        replies=("Tap a choice, or type an order, e.g. 5 cartons Indomie.\nWelcome to OmniRoute",),
        session_state="main",
    ),
    # An order typed in words: asked to confirm, with the pricing engine's amount.
    IncomingCase(
        "typed_order",
        after=("text",),
        replies=("Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?",),
        session_state="typed_confirm",
    ),
    IncomingCase(
        "typed_carton",
        after=("text",),
        replies=("Add 1 x Indomie Chicken 40x70g (NGN 9,300.00)?",),
        session_state="typed_confirm",
    ),
    # A product's name and no quantity: its quantity screen.
    IncomingCase(
        "typed_name",
        after=("text",),
        replies=("Cola 24x35cl\nNGN 10,800 per crate, ",),
        session_state="quantity",
    ),
    # A caption is words she typed, read as a text is (as Twilio's Body with a picture).
    IncomingCase("image", replies=("Welcome to OmniRoute",), session_state="main"),
    IncomingCase(
        "image_order",
        after=("text",),
        replies=("Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?",),
        session_state="typed_confirm",
    ),
    IncomingCase("audio", replies=(ATTACHMENT_NOTICE,)),
    IncomingCase(
        "document",
        after=("text",),
        replies=("Tap a choice, or type an order",),
        session_state="main",
    ),
    IncomingCase("reaction", after=("text",), session_state="main"),
    IncomingCase("duplicate", replies=("Welcome to OmniRoute",), session_state="main"),
    IncomingCase("other_number"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.fixture for c in CASES])
async def test_incoming_message_is_answered_through_the_outbox(
    gateway: Client, services: Services, fake_graph: FakeGraphApi, case: IncomingCase
) -> None:
    for earlier in case.after:
        await ok(await post(gateway, stored(earlier)))
    await flush(services)
    before = len(fake_graph.sent)

    await ok(await post(gateway, stored(case.fixture)))

    # Answered at once; the reply waits in the outbox until the sender runs.
    assert len(fake_graph.sent) == before
    assert await flush(services) == len(case.replies)
    replies = [m.text for m in fake_graph.sent[before:]]
    assert len(replies) == len(case.replies)
    for reply, start in zip(replies, case.replies, strict=True):
        assert reply.startswith(start), reply
    assert await session_state(services) == case.session_state


async def test_first_message_gets_the_main_menu_as_a_list_exactly(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    await ok(await post(gateway, stored("text")))
    [queued] = await services.notifications.for_recipient(NGOZI)
    assert queued.status is DeliveryStatus.QUEUED
    assert queued.provider == "meta"
    assert queued.dedupe_key == f"meta-reply:{wamid(NGOZI.e164, 'fixture-text')}"

    assert await flush(services) == 1

    [request] = fake_graph.requests
    assert request.method == "POST"
    assert request.path == MESSAGES_PATH
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    sent_menu, screens = untagged(request.json)
    assert sent_menu == main_menu()
    [screen] = screens  # every row names the one screen they were offered on
    assert screen is not None
    [sent] = await services.notifications.for_recipient(NGOZI)
    assert sent.status is DeliveryStatus.SENT
    assert sent.provider_message_id == fake_graph.sent[0].id
    assert await services.notifications.last_inbound("meta", NGOZI) is not None


async def test_button_reply_id_is_read_as_the_typed_key(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    await ok(await post(gateway, stored("text")))
    for n, content in enumerate([list_reply("1", "Shop"), list_reply("1", "Noodles & Pasta")]):
        await ok(await post(gateway, ngozi_says(content, n)))
    prompt_hop = ngozi_says(list_reply("1", "Indomie Chicken 40x70g…"), 2)
    await ok(await post(gateway, prompt_hop))
    await flush(services)
    prompt = fake_graph.sent[-1]
    [button] = prompt.body["interactive"]["action"]["buttons"]
    assert (read_option_id(button["reply"]["id"])[0], button["reply"]["title"]) == ("00", "Back")

    # taps "Back" with the bare id of a message sent before ids named their screen
    await ok(await post(gateway, stored("button_reply")))
    await flush(services)

    assert fake_graph.sent[-1].text == "Noodles & Pasta:"
    assert await session_state(services) == "products"


async def test_redelivered_webhook_is_applied_once(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    await ok(await post(gateway, stored("text")))
    await ok(await post(gateway, stored("list_reply")))
    await ok(await post(gateway, stored("list_reply")))  # Meta retrying the same webhook
    await flush(services)
    await ok(await post(gateway, stored("list_reply")))  # and again after the reply went out

    assert await flush(services) == 0
    assert [m.text for m in fake_graph.sent] == ["Welcome to OmniRoute", "Choose a category:"]
    assert await session_state(services) == "categories"  # not moved on to a category
    assert len(await services.notifications.for_recipient(NGOZI)) == 2


@pytest.mark.parametrize(
    ("word", "reply"),
    [
        ("ACHA", "Hutapokea ujumbe zaidi kutoka OmniRoute. Tuma ANZA kupokea tena."),
        ("HALI", "Bado huna oda."),
        ("STOP", "Hutapokea ujumbe zaidi kutoka OmniRoute. Tuma ANZA kupokea tena."),
    ],
)
async def test_a_kenyans_first_message_may_be_a_keyword_in_swahili(
    gateway: Client, services: Services, fake_graph: FakeGraphApi, word: str, reply: str
) -> None:
    body = message_body(
        text(word),
        wa_id=JUMA.digits,
        name="Juma Mwangi",
        message_id=wamid(JUMA.e164, f"keyword-{word}"),
        timestamp=T0,
    )
    await ok(await post(gateway, body))
    await flush(services)

    [answer] = fake_graph.sent_to(JUMA.e164)
    assert answer.text == reply


async def test_a_picture_is_answered_in_the_language_the_customer_chose(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    """Juma is in Nairobi (Swahili by default) and has switched to English."""

    def juma_sends(content: dict[str, Any], n: int) -> bytes:
        return message_body(
            content,
            wa_id=JUMA.digits,
            name="Juma Mwangi",
            message_id=wamid(JUMA.e164, f"juma-{n}"),
            timestamp=T0 + n,
        )

    for n, words in enumerate(["habari", "4", "1"]):  # Lugha > English
        await ok(await post(gateway, juma_sends(text(words), n)))
    await flush(services)
    assert fake_graph.sent_to(JUMA.e164)[-1].text == "Language changed.\nWelcome to OmniRoute"
    picture = {"type": "image", "image": {"mime_type": "image/jpeg", "id": "1037543291543637"}}

    await ok(await post(gateway, juma_sends(picture, 3)))
    await flush(services)

    assert fake_graph.sent_to(JUMA.e164)[-1].text == ATTACHMENT_NOTICE


async def test_a_thumbs_up_on_our_yes_no_question_is_her_yes_and_other_reactions_change_nothing(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    """She put 👍🏾 on "Add 5 x Indomie…? Yes / No" and nothing happened. It is her Yes now (👎
    her No); an emoji on an older message, another emoji, or one taken back changes nothing
    and is not answered (no "I did not understand")."""
    await ok(await post(gateway, stored("text")))
    await ok(await post(gateway, stored("typed_order")))
    await flush(services)
    menu, question = fake_graph.sent
    assert question.text == "Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?"
    ignored = [(menu.id, "\U0001f44d"), (question.id, "\U0001f602"), (question.id, None)]
    for n, (on, emoji) in enumerate(ignored, 2):
        await ok(await post(gateway, ngozi_says(reaction(on, emoji), n)))

    assert await flush(services) == 0
    assert await session_state(services) == "typed_confirm"

    await ok(await post(gateway, ngozi_says(reaction(question.id, "\U0001f44d\U0001f3fe"), 5)))
    await flush(services)

    assert fake_graph.sent[-1].text.startswith("Added 5 x Indomie Chicken 40x70g.")
    cart = await services.orders.cart(NGOZI, RegionCode.LAGOS)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("NDL-INDO-CHK", 5)]
    await ok(await post(gateway, ngozi_says(text("2 cartons of Indomie Onion"), 6)))
    await flush(services)
    onion = fake_graph.sent[-1]
    assert onion.text.startswith("Add 2 x Indomie Onion 40x70g")
    await ok(await post(gateway, ngozi_says(reaction(onion.id, "\U0001f44e"), 7)))
    await flush(services)
    assert fake_graph.sent[-1].id != onion.id  # answered: her No
    assert await services.orders.cart(NGOZI, RegionCode.LAGOS) == cart
    assert await session_state(services) != "typed_confirm"
    # a 👍 on the newest screen, which asks no Yes or No
    await ok(await post(gateway, ngozi_says(reaction(fake_graph.sent[-1].id, "\U0001f44d"), 8)))
    assert await flush(services) == 0


NEW_NUMBER = Phone("+2348031234567")


async def ngozi_with_history(services: Services) -> str:
    """An order (NGN 26,993.25 on delivery), her language (Yoruba) and NGN 50,000 kept on her
    account: her order's reference."""
    assert services.money is not None
    order = await services.orders.place(
        PlaceOrder(
            NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.ON_DELIVERY, "n1"
        )
    )
    await services.relay.drain()  # its bill is posted (to her receivable) before she moves
    await services.customers.set_locale(NGOZI, "yo")
    kept = Money(Decimal(50000), "NGN")
    await services.money.books.post_payment_received(NGOZI, kept, "mpesa", "KEPT-NGOZI")
    return order.reference


async def test_her_new_number_keeps_her_orders_language_and_credit_once(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    """Ngozi changed her WhatsApp number: at the new one she was a new customer, in English,
    with no orders and no credit. They follow her now; Meta redelivering the notice moves her
    once, and she is sent nothing for it."""
    assert services.money is not None
    reference = await ngozi_with_history(services)

    await ok(await post(gateway, stored("user_changed_number")))
    await ok(await post(gateway, stored("user_changed_number")))

    assert await flush(services) == 0
    assert [o.reference for o in await services.orders.recent(NEW_NUMBER)] == [reference]
    assert await services.orders.recent(NGOZI) == []
    customer = await services.customers.get(NEW_NUMBER)
    assert customer is not None
    assert customer.locale == "yo"
    credit = await services.money.books.account_credit(NEW_NUMBER, "NGN")
    assert credit == Money(Decimal("23006.75"), "NGN")  # beyond the order she owes for
    hello = message_body(
        text("hi"),
        wa_id=NEW_NUMBER.digits,
        name="Ngozi Okafor",
        message_id=wamid(NEW_NUMBER.e164, "new-number-hi"),
        timestamp=T0 + 110,
    )
    await ok(await post(gateway, hello))
    await flush(services)
    [menu] = fake_graph.sent_to(NEW_NUMBER.e164)
    assert menu.text == services.translate("yo", "main.title")


async def test_a_new_number_that_is_another_customers_is_not_merged(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    """Bola's number (a customer with her own history) is never given Ngozi's orders."""
    reference = await ngozi_with_history(services)
    bola = Phone("+2348030000002")
    before = await everything(services)

    body = stored("user_changed_number").replace(NEW_NUMBER.digits.encode(), bola.digits.encode())
    await ok(await post(gateway, body))

    assert await everything(services) == before
    assert [o.reference for o in await services.orders.recent(NGOZI)] == [reference]
    assert await flush(services) == 0


# --- refused bodies change nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("not_whatsapp", "Bad request: object: Input should be 'whatsapp_business_account'"),
        ("missing_message_id", "Bad request: messages.0.id is required"),
    ],
)
async def test_body_not_shaped_like_meta_webhook_is_400_and_changes_nothing(
    gateway: Client, services: Services, fake_graph: FakeGraphApi, fixture: str, reason: str
) -> None:
    before = await everything(services)

    response = await post(gateway, stored(fixture))

    assert response.status == 400
    assert (await response.text()).startswith(reason)
    assert await everything(services) == before
    assert await flush(services) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": signature(stored("text"))},  # a body altered after signing
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": signature(stored("bad_signature"), "another app's secret")},
        {"X-Hub-Signature-256": signature(stored("bad_signature")).removeprefix("sha256=")},
        {"X-Hub-Signature": "sha1=" + "0" * 40},  # only the old SHA-1 header
    ],
    ids=["altered-body", "empty", "other-secret", "no-prefix", "sha1-only"],
)
async def test_webhook_without_a_valid_signature_is_403_and_changes_nothing(
    gateway: Client, services: Services, fake_graph: FakeGraphApi, headers: dict[str, str]
) -> None:
    body = stored("bad_signature")
    sent_headers = {"Content-Type": "application/json", **headers}
    before = await everything(services)

    response = await gateway.post(WEBHOOK_PATH, data=body, headers=sent_headers)

    assert response.status == 403
    assert "X-Hub-Signature-256" in await response.text()
    assert await everything(services) == before
    assert await session_state(services) is None
    assert await flush(services) == 0


async def test_body_over_3_mib_is_413(gateway: Client, services: Services) -> None:
    body = stored("text")[:-1] + b',"padding":"' + b"x" * (3 * 1024 * 1024) + b'"}'

    response = await gateway.post(
        WEBHOOK_PATH, data=io.BytesIO(body), headers=webhook_headers(body)
    )

    assert response.status == 413
    assert await session_state(services) is None


# --- statuses ------------------------------------------------------------------------------------


async def _sent_reply(services: Services, provider_id: str) -> None:
    """A reply to Ngozi the Graph API accepted as `provider_id` (as a flush would record it)."""
    await services.notifications.queue(
        OutboundMessage(
            provider="meta",
            kind=ChannelKind.WHATSAPP,
            to=NGOZI,
            reply=Reply("Welcome to OmniRoute"),
            dedupe_key=f"meta-reply:{provider_id}",
            reply_to=provider_id,
        )
    )
    [delivery] = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key == f"meta-reply:{provider_id}"
    ]
    await services.notifications.mark_sent(delivery.id, provider_id)


async def status_of(services: Services, provider_id: str) -> DeliveryStatus:
    found = [
        d.status
        for d in await services.notifications.for_recipient(NGOZI)
        if d.provider_message_id == provider_id
    ]
    assert len(found) == 1
    return found[0]


async def test_delivered_then_read_statuses_mark_the_delivery_delivered(
    gateway: Client, services: Services
) -> None:
    await _sent_reply(services, SENT_ID)

    await ok(await post(gateway, stored("status_delivered")))
    assert await status_of(services, SENT_ID) is DeliveryStatus.DELIVERED
    await ok(await post(gateway, stored("status_read")))
    assert await status_of(services, SENT_ID) is DeliveryStatus.DELIVERED


async def test_failed_status_marks_the_delivery_failed(gateway: Client, services: Services) -> None:
    await _sent_reply(services, FAILED_ID)

    await ok(await post(gateway, stored("status_failed")))

    assert await status_of(services, FAILED_ID) is DeliveryStatus.FAILED


async def test_status_of_a_message_that_is_not_ours_changes_nothing(
    gateway: Client, services: Services
) -> None:
    before = await everything(services)

    await ok(await post(gateway, stored("status_delivered")))

    assert await everything(services) == before


# --- a user known only by business-scoped user ID ------------------------------------------------


async def test_user_without_a_phone_number_is_answered_through_their_user_id(
    gateway: Client, services: Services, fake_graph: FakeGraphApi
) -> None:
    before = await everything(services)

    await ok(await post(gateway, stored("user_id_only")))
    [notice] = await fake_graph.wait_for(1)

    assert notice.to == BSUID
    assert fake_graph.requests[0].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": BSUID,
        "type": "text",
        "text": {
            "preview_url": False,
            "body": (
                "Welcome to OmniRoute. Your cart and orders are kept under your phone number, and "
                "WhatsApp has not shared it with us. Please message us from an account that "
                "shows its number, or call 0800 123 456."
            ),
        },
    }
    # No dialog ran and nothing was queued: carts and orders need a phone number.
    assert await everything(services) == before
    await ok(await post(gateway, stored("user_id_only")))  # redelivered: answered once
    assert await flush(services) == 0
    assert len(fake_graph.requests) == 1


async def test_user_id_notice_the_graph_api_fails_once_is_sent_again(
    gateway: Client, fake_graph: FakeGraphApi
) -> None:
    fake_graph.fail_next(503)  # (#2) Service temporarily unavailable

    await ok(await post(gateway, stored("user_id_only")))

    [notice] = await fake_graph.wait_for(1)
    assert notice.to == BSUID
    assert notice.text.startswith("Welcome to OmniRoute. Your cart and orders are kept")
    assert len(fake_graph.requests) == 2


async def test_user_id_notice_the_graph_api_refuses_is_not_sent_again(
    gateway: Client, fake_graph: FakeGraphApi
) -> None:
    fake_graph.fail_next(400, 131026, "Message undeliverable")

    await ok(await post(gateway, stored("user_id_only")))
    await asyncio.sleep(channels.meta.user_ids.RETRY_DELAYS[0] + 0.5)

    assert fake_graph.sent == []
    assert len(fake_graph.requests) == 1


# --- configuration -------------------------------------------------------------------------------


def test_production_without_the_app_secret_refuses_to_start(
    services: Services, fake_graph: FakeGraphApi, database_url: str
) -> None:
    settings = fake_graph.settings(database_url, env="production", meta_app_secret=None)

    with pytest.raises(MissingAppSecretError, match="OMNIROUTE_META_APP_SECRET"):
        channels.meta.make_app(services.channel_context(), settings)


async def test_without_an_app_secret_outside_production_webhooks_are_not_checked(
    database_url: str, services: Services, fake_graph: FakeGraphApi
) -> None:
    settings = fake_graph.settings(database_url, meta_app_secret=None)
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as unchecked:
        await services.delivery.stop()
        body = stored("text")
        response = await unchecked.post(
            WEBHOOK_PATH, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
        assert await session_state(services) == "main"


def test_the_app_secret_is_a_secret() -> None:
    assert APP_SECRET not in repr(Settings(meta_app_secret=SecretStr(APP_SECRET), _env_file=None))
