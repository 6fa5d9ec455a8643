"""Twilio Messaging webhooks (SMS and WhatsApp), byte for byte: the TwiML we answer, what each body
changes, and that only Twilio, signing with the account's Auth Token, changes anything.

The bodies live in fixtures/{sms,whatsapp}/*.form (see fixtures/SOURCES.md); further messages of
a conversation are built by the builders in tests/support/providers/twilio.py, first shown to
reproduce the stored fixtures exactly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

import channels.twilio
from channels.twilio.signature import MissingAuthTokenError
from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from core.conversation import Session
from core.phone import Phone
from core.region import RegionCode
from tests.contract.channels.twilio.bodies import stored
from tests.support.phone import database_rows
from tests.support.providers.twilio import (
    AUTH_TOKEN,
    SMS_PATH,
    WHATSAPP_PATH,
    TwilioChat,
    TwilioWebhooks,
    message_text,
    new_message_sid,
    sid,
    signature_for,
    sms_body,
    twilio_settings,
    twiml_of,
    whatsapp_body,
)

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
LAGOS = RegionCode.LAGOS
INDOMIE = "NDL-INDO-CHK"
WELCOME = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"
CATEGORIES = "Choose a category:\n1. Noodles & Pasta"
NOT_A_CHOICE = "Please choose a number from the list.\n" + WELCOME
TYPED_ORDER = "Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Yes\n2. No"
NOT_AN_ORDER = "Choose a number, or type an order, e.g. 5 cartons Indomie.\n" + WELCOME

Client = TestClient[web.Request, web.Application]


async def session_of(services: Services, kind: str) -> Session | None:
    """One conversation per customer and kind: `sms:+234…`, `whatsapp:+234…`."""
    return await services.store.load(f"{kind}:{NGOZI.e164}")


async def nothing_changed(services: Services, rows_before: dict[str, list[Any]]) -> None:
    assert await database_rows(services.db) == rows_before
    assert await session_of(services, "sms") is None
    assert await session_of(services, "whatsapp") is None


def test_generated_bodies_match_the_stored_fixtures_byte_for_byte() -> None:
    assert sms_body("Hi", phone=NGOZI.e164, message_sid=sid("SM", "fixture-sms-1")) == stored(
        "sms", "first_message"
    )
    assert whatsapp_body(
        "1", phone=NGOZI.e164, message_sid=sid("SM", "fixture-whatsapp-2")
    ) == stored("whatsapp", "menu_choice")
    button = (("ButtonText", "Shop"), ("ButtonPayload", "1"))
    assert whatsapp_body(
        "Shop",
        phone=NGOZI.e164,
        message_sid=sid("SM", "fixture-whatsapp-3"),
        message_type="button",
        extra=button,
    ) == stored("whatsapp", "button_reply")
    assert sms_body(
        "CANCEL",
        phone=NGOZI.e164,
        message_sid=sid("SM", "fixture-sms-opt-out"),
        opt_out_type="STOP",
    ) == stored("sms", "opt_out_cancel")


@dataclass(frozen=True)
class IncomingCase:
    """One stored body posted, signed, as Twilio would, and what it must do."""

    kind: str  # "sms" or "whatsapp": the fixture folder and the endpoint
    fixture: str
    status: int
    starts: str  # how the <Message> text (or the 4xx body) begins
    after: tuple[str, ...] = ()  # fixtures of the same kind posted first, in order
    session_state: str | None = None  # the conversation's state afterwards; None: none

    @property
    def path(self) -> str:
        return SMS_PATH if self.kind == "sms" else WHATSAPP_PATH


CASES = [
    IncomingCase("sms", "first_message", 200, WELCOME, session_state="main"),
    IncomingCase(
        "sms", "menu_choice", 200, CATEGORIES, after=("first_message",), session_state="categories"
    ),
    # An order typed in words, as the first text: asked to confirm, nothing added yet.
    IncomingCase("sms", "typed_order", 200, TYPED_ORDER, session_state="typed_confirm"),
    # "a carton of …" is one carton.
    IncomingCase(
        "sms",
        "typed_carton",
        200,
        "Add 1 x Indomie Chicken 40x70g (NGN 9,300.00)?\n1. Yes\n2. No",
        session_state="typed_confirm",
    ),
    IncomingCase("sms", "missing_from", 400, "Bad request: From is required"),
    IncomingCase(
        "sms", "invalid_from", 400, "Bad request: From: '+2340000' is not a valid phone number"
    ),
    IncomingCase("sms", "missing_message_sid", 400, "Bad request: MessageSid is required"),
    IncomingCase(
        "sms",
        "whatsapp_sender",
        400,
        "Bad request: From: a whatsapp: address belongs on /channels/twilio/whatsapp",
    ),
    IncomingCase("whatsapp", "first_message", 200, WELCOME, session_state="main"),
    IncomingCase(
        "whatsapp",
        "menu_choice",
        200,
        CATEGORIES,
        after=("first_message",),
        session_state="categories",
    ),
    # A quick-reply button answers with its payload (the menu key), not its text.
    IncomingCase(
        "whatsapp",
        "button_reply",
        200,
        CATEGORIES,
        after=("first_message",),
        session_state="categories",
    ),
    # No step takes a location yet: it reads as "6.4541,3.3947", neither a choice nor an order.
    IncomingCase(
        "whatsapp", "location", 200, NOT_AN_ORDER, after=("first_message",), session_state="main"
    ),
    IncomingCase(
        "whatsapp",
        "typed_order",
        200,
        TYPED_ORDER,
        after=("first_message",),
        session_state="typed_confirm",
    ),
    # A product's name and no quantity: its quantity screen.
    IncomingCase(
        "whatsapp",
        "typed_name",
        200,
        "Cola 24x35cl\nNGN 10,800 per crate, ",
        after=("first_message",),
        session_state="quantity",
    ),
    IncomingCase(
        "whatsapp", "image", 200, NOT_A_CHOICE, after=("first_message",), session_state="main"
    ),
    IncomingCase(
        "whatsapp", "sms_sender", 400, "Bad request: From: expected a whatsapp:+<number> address"
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}/{c.fixture}" for c in CASES])
async def test_twilio_messaging_body(
    twilio: TwilioWebhooks, services: Services, case: IncomingCase
) -> None:
    for earlier in case.after:
        message_text(await twiml_of(await twilio.post(case.path, stored(case.kind, earlier))))
    rows_before = await database_rows(services.db)

    response = await twilio.post(case.path, stored(case.kind, case.fixture))

    if case.status == 200:
        reply = message_text(await twiml_of(response))
        assert reply.startswith(case.starts), reply
    else:
        text = await response.text()
        assert response.status == case.status, text
        assert response.content_type == "text/plain"
        assert text.startswith(case.starts), text
        assert "errors.pydantic.dev" not in text
    # Menu turns write nothing to the database until a cart or an order changes.
    assert await database_rows(services.db) == rows_before
    session = await session_of(services, case.kind)
    assert (session and session.state) == case.session_state
    other = await session_of(services, "whatsapp" if case.kind == "sms" else "sms")
    assert other is None


async def test_sms_and_whatsapp_are_separate_conversations(
    twilio: TwilioWebhooks, services: Services
) -> None:
    await twilio.post(WHATSAPP_PATH, stored("whatsapp", "first_message"))
    await twilio.post(WHATSAPP_PATH, stored("whatsapp", "menu_choice"))

    reply = message_text(
        await twiml_of(await twilio.post(SMS_PATH, stored("sms", "first_message")))
    )

    assert reply == WELCOME
    whatsapp = await session_of(services, "whatsapp")
    assert whatsapp is not None
    assert whatsapp.state == "categories"


@pytest.mark.parametrize("kind", ["sms", "whatsapp"])
@pytest.mark.parametrize(
    ("word", "reply"),
    [
        ("ACHA", "Hutapokea ujumbe zaidi kutoka OmniRoute. Tuma ANZA kupokea tena."),
        ("HALI", "Bado huna oda.\n0. Rudi"),
    ],
)
async def test_a_kenyans_first_message_may_be_a_keyword_in_swahili(
    twilio: TwilioWebhooks, kind: Literal["sms", "whatsapp"], word: str, reply: str
) -> None:
    chat = TwilioChat(twilio, JUMA.e164, kind=kind, profile_name="Juma")

    assert await chat.send(word) == reply


# --- Twilio's Advanced Opt-Out ------------------------------------------------------------------

STOPPED = "You will get no more messages from OmniRoute. Send START to get them again."


async def test_cancel_that_twilio_reads_as_stop_opts_her_out_on_the_confirm_screen(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio blocks every later SMS to her once she texts CANCEL (OptOutType=STOP): she is
    opted out here too, and the order she was asked to confirm is not added."""
    asked = message_text(await twiml_of(await twilio.post(SMS_PATH, stored("sms", "typed_order"))))
    assert asked == TYPED_ORDER

    reply = message_text(
        await twiml_of(await twilio.post(SMS_PATH, stored("sms", "opt_out_cancel")))
    )

    assert reply == STOPPED
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.opted_out
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert await session_of(services, "sms") is None


async def test_yes_that_twilio_reads_as_start_opts_her_back_in(
    twilio: TwilioWebhooks, services: Services
) -> None:
    await twilio.post(SMS_PATH, stored("sms", "opt_out_cancel"))

    reply = message_text(await twiml_of(await twilio.post(SMS_PATH, stored("sms", "opt_in_yes"))))

    assert reply == "Welcome back: you will get order updates again.\n" + WELCOME
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert not customer.opted_out


async def test_yes_with_opt_in_from_a_retailer_never_opted_out_still_answers_yes(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio marks every YES as an opt-in: for a retailer receiving messages it stays the
    answer to 'Add 5 x …? 1. Yes 2. No'."""
    await twilio.post(SMS_PATH, stored("sms", "typed_order"))

    reply = message_text(await twiml_of(await twilio.post(SMS_PATH, stored("sms", "opt_in_yes"))))

    assert reply.startswith("Added 5 x Indomie Chicken 40x70g."), reply
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 5


async def test_yes_after_opting_out_with_acha_only_answers_yes(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Juma opted out with our Swahili ACHA, a word Twilio does not know (it never blocked
    him). Answering 'Ongeza 5 x …? 1. Ndiyo 2. Hapana' with YES, which Twilio tags as an
    opt-in, he got 'Karibu tena' above the menu, his answer dropped. Twilio's tag means
    nothing to an opt-out it never saw: YES is his answer, and he stays opted out until he
    sends a START word (ANZA, START)."""
    chat = TwilioChat(twilio, JUMA.e164, kind="sms")
    await chat.send("ACHA")
    assert (await services.customers.get(JUMA)).opted_out  # type: ignore[union-attr]
    await chat.send("habari")
    asked = await chat.send("nataka katoni 5 za indomie chicken")
    assert asked.endswith("1. Ndiyo\n2. Hapana"), asked

    answer = await chat.send("YES", opt_out_type="START")

    assert answer.startswith("Umeongeza 5 x Indomie Chicken 40x70g."), answer
    assert (await services.orders.cart(JUMA, RegionCode.NAIROBI)).quantity_of(INDOMIE) == 5
    customer = await services.customers.get(JUMA)
    assert customer is not None
    assert customer.opted_out
    back = await chat.send("ANZA", opt_out_type=None)
    assert back.startswith("Karibu tena"), back
    assert not (await services.customers.get(JUMA)).opted_out  # type: ignore[union-attr]


async def test_cancel_without_twilios_opt_out_type_does_not_opt_her_out(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """A number outside a Messaging Service with Advanced Opt-Out: no OptOutType, nothing
    new."""
    chat = TwilioChat(twilio, NGOZI.e164, kind="sms")
    await chat.send("Hi")

    await chat.send("CANCEL")

    customer = await services.customers.get(NGOZI)
    assert customer is None or not customer.opted_out


async def test_cancel_that_twilio_reads_as_stop_on_whatsapp_opts_her_out(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Advanced Opt-Out covers a Messaging Service's WhatsApp senders too: after CANCEL
    (OptOutType=STOP) Twilio sends her nothing more, yet she was asked the same question again
    and every notice to her failed. She is opted out here too, nothing added."""
    chat = TwilioChat(twilio, NGOZI.e164, kind="whatsapp")
    assert await chat.send("I want 5 cartons of Indomie Chicken") == TYPED_ORDER

    assert await chat.send("CANCEL", opt_out_type="STOP") == STOPPED

    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.opted_out
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert await session_of(services, "whatsapp") is None


async def test_yes_that_twilio_reads_as_start_on_whatsapp_opts_her_back_in(
    twilio: TwilioWebhooks, services: Services
) -> None:
    chat = TwilioChat(twilio, NGOZI.e164, kind="whatsapp")
    await chat.send("CANCEL", opt_out_type="STOP")

    reply = await chat.send("YES", opt_out_type="START")

    assert reply == "Welcome back: you will get order updates again.\n" + WELCOME
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert not customer.opted_out


# --- a webhook delivered twice -----------------------------------------------------------------


async def test_webhook_delivered_twice_is_answered_twice_and_applied_once(
    twilio: TwilioWebhooks, services: Services
) -> None:
    await twilio.post(WHATSAPP_PATH, stored("whatsapp", "first_message"))

    first = message_text(
        await twiml_of(await twilio.post(WHATSAPP_PATH, stored("whatsapp", "menu_choice")))
    )
    again = message_text(
        await twiml_of(await twilio.post(WHATSAPP_PATH, stored("whatsapp", "menu_choice")))
    )

    assert first.startswith(CATEGORIES)
    assert again == first
    # Applied twice, "1" would have opened Noodles & Pasta.
    session = await session_of(services, "whatsapp")
    assert session is not None
    assert session.state == "categories"


async def test_quantity_delivered_twice_adds_to_the_cart_once(
    twilio: TwilioWebhooks, services: Services
) -> None:
    chat = TwilioChat(twilio, NGOZI.e164, kind="sms")
    await chat.send("Hi")
    await chat.choose("Shop")
    await chat.choose("Noodles")
    assert "Enter quantity" in await chat.choose("Indomie Chicken")

    added = await chat.send("3")
    again = await chat.resend()

    assert added.startswith("Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
    assert again == added
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 3
    assert (await chat.choose("View cart")).startswith("Cart (3 items, NGN 26,993.25):")


async def test_the_same_text_in_a_new_message_is_a_new_answer(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Only the MessageSid makes a duplicate: "1" sent again is the customer's next answer."""
    chat = TwilioChat(twilio, NGOZI.e164)
    await chat.send("hi")
    await chat.send("1", message_sid=new_message_sid())

    products = await chat.send("1", message_sid=new_message_sid())

    assert products.startswith("Noodles & Pasta:")
    session = await session_of(services, "whatsapp")
    assert session is not None
    assert session.state == "products"


# --- X-Twilio-Signature -------------------------------------------------------------------------

BAD_SIGNATURES = {
    "missing": None,
    "empty": "",
    "other-token": signature_for("http://127.0.0.1/", b"", "0" * 32),
}


@pytest.mark.parametrize(("kind", "path"), [("sms", SMS_PATH), ("whatsapp", WHATSAPP_PATH)])
@pytest.mark.parametrize("signature", list(BAD_SIGNATURES), ids=list(BAD_SIGNATURES))
async def test_webhook_without_a_valid_signature_is_403_and_changes_nothing(
    twilio: TwilioWebhooks, services: Services, kind: str, path: str, signature: str
) -> None:
    rows_before = await database_rows(services.db)

    response = await twilio.post(
        path, stored(kind, "first_message"), signature=BAD_SIGNATURES[signature]
    )

    assert response.status == 403
    assert response.content_type == "text/plain"
    assert "X-Twilio-Signature" in await response.text()
    await nothing_changed(services, rows_before)


async def test_signature_made_with_another_auth_token_is_refused(
    twilio: TwilioWebhooks, services: Services
) -> None:
    body = stored("whatsapp", "first_message")
    forged = signature_for(twilio.url(WHATSAPP_PATH), body, "f" * 32)
    rows_before = await database_rows(services.db)

    response = await twilio.post(WHATSAPP_PATH, body, signature=forged)

    assert response.status == 403
    await nothing_changed(services, rows_before)


async def test_signature_for_another_body_is_refused(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """A signed "hi" cannot carry a tampered body: the fields are signed too."""
    signed = signature_for(twilio.url(WHATSAPP_PATH), stored("whatsapp", "first_message"))
    rows_before = await database_rows(services.db)

    response = await twilio.post(WHATSAPP_PATH, stored("whatsapp", "menu_choice"), signature=signed)

    assert response.status == 403
    await nothing_changed(services, rows_before)


async def test_signature_for_another_url_is_refused(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Signed for /sms, posted to /whatsapp (or with a query Twilio never called)."""
    body = stored("whatsapp", "first_message")
    for url in (twilio.url(SMS_PATH), twilio.url(WHATSAPP_PATH + "?x=1")):
        response = await twilio.post(WHATSAPP_PATH, body, signature=signature_for(url, body))
        assert response.status == 403
    assert await session_of(services, "whatsapp") is None


async def test_signature_over_the_url_with_a_query_is_accepted(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio signs the whole URL it was given, query string included."""
    response = await twilio.post(
        WHATSAPP_PATH + "?source=sandbox", stored("whatsapp", "first_message")
    )

    assert message_text(await twiml_of(response)) == WELCOME
    assert await session_of(services, "whatsapp") is not None


@pytest.fixture
async def behind_proxy(database_url: str, services: Services) -> AsyncIterator[Client]:
    """The gateway behind a proxy: Twilio calls https://omniroute.example.com, we see 127.0.0.1."""
    settings = twilio_settings(database_url, public_url="https://omniroute.example.com/")
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_behind_a_proxy_the_public_url_is_what_is_checked(
    behind_proxy: Client, services: Services
) -> None:
    body = stored("whatsapp", "first_message")
    local = TwilioWebhooks(behind_proxy)
    public = TwilioWebhooks(behind_proxy, public_url="https://omniroute.example.com")

    refused = await local.post(WHATSAPP_PATH, body)
    assert refused.status == 403
    assert await session_of(services, "whatsapp") is None

    accepted = await public.post(WHATSAPP_PATH, body)
    assert message_text(await twiml_of(accepted)) == WELCOME


@pytest.fixture
async def unsigned(database_url: str, services: Services) -> AsyncIterator[Client]:
    """Dev/test without OMNIROUTE_TWILIO_AUTH_TOKEN: webhooks are not checked."""
    settings = Settings(
        env="test", database_url=database_url, session_url="memory://", _env_file=None
    )
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_without_an_auth_token_outside_production_webhooks_are_accepted(
    unsigned: Client, services: Services
) -> None:
    response = await TwilioWebhooks(unsigned).post(
        SMS_PATH, stored("sms", "first_message"), signature=None
    )

    assert message_text(await twiml_of(response)) == WELCOME
    assert await session_of(services, "sms") is not None


@pytest.mark.parametrize("token", [None, ""], ids=["unset", "empty"])
def test_production_without_an_auth_token_refuses_to_start(
    services: Services, database_url: str, token: str | None
) -> None:
    settings = Settings(
        env="production",
        database_url=database_url,
        twilio_auth_token=None if token is None else SecretStr(token),
        _env_file=None,
    )

    with pytest.raises(MissingAuthTokenError, match="OMNIROUTE_TWILIO_AUTH_TOKEN is not set"):
        channels.twilio.make_app(services.channel_context(), settings)


def test_production_with_an_auth_token_starts(services: Services, database_url: str) -> None:
    settings = Settings(
        env="production",
        database_url=database_url,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        _env_file=None,
    )

    app = channels.twilio.make_app(services.channel_context(), settings)

    assert {r.resource.canonical for r in app.router.routes() if r.resource} == {
        "/sms",
        "/whatsapp",
        "/voice",
        "/status",
    }


# --- bodies that are not Twilio's ----------------------------------------------------------------


async def test_body_over_8_kib_is_refused_with_413_and_changes_nothing(
    twilio: TwilioWebhooks, services: Services
) -> None:
    body = stored("sms", "first_message") + b"&Padding=" + b"x" * 8192
    rows_before = await database_rows(services.db)

    response = await twilio.post(SMS_PATH, body)

    assert response.status == 413
    assert "8192 bytes" in await response.text()
    await nothing_changed(services, rows_before)


async def test_body_that_is_not_utf8_is_a_400(twilio: TwilioWebhooks, services: Services) -> None:
    response: ClientResponse = await twilio.client.post(
        SMS_PATH,
        data=stored("sms", "first_message") + b"\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )

    assert response.status == 400
    assert await response.text() == "Bad request: the body is not UTF-8\n"
    assert await session_of(services, "sms") is None
