"""Ngozi orders on WhatsApp (Meta Cloud API): from "hi" to the order reference, by tapping.

Every message goes in as Meta's signed webhook and every reply comes back out of the deliveries
outbox through the fake Graph API, so the journey reads what her phone would show: lists,
reply buttons and plain text, within Meta's limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from channels.render.whatsapp import read_option_id
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from core.region import RegionCode
from engines.notifications import DeliveryStatus
from tests.support.providers.meta import (
    FakeGraphApi,
    WhatsAppUser,
    message_body,
    status_body,
    text,
    wamid,
    webhook_headers,
)
from tests.support.shelf import stock_the_noodle_shelf

NGOZI = Phone("+2348030000001")
INDOMIE = "NDL-INDO-CHK"
DAY = 24 * 3600
LATE_MENU = "Your earlier message arrived late and changed nothing.\nWelcome to OmniRoute"


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(database_url: str, fake_graph: FakeGraphApi) -> Settings:
    return fake_graph.settings(database_url)


@pytest.fixture
async def ngozi(
    client: TestClient[web.Request, web.Application],
    services: Services,
    fake_graph: FakeGraphApi,
    clock: SteppedClock,
) -> WhatsAppUser:
    await services.delivery.stop()  # the test flushes the outbox itself
    return WhatsAppUser(
        client,
        fake_graph,
        flush=services.delivery.send_due,
        now=lambda: int(clock.now().timestamp()),
        number=NGOZI.e164,
    )


async def test_whole_order_over_whatsapp_by_tapping_lists_and_buttons(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi
) -> None:
    menu = await ngozi.say("hi")
    assert menu.type == "interactive"
    assert menu.body["interactive"]["type"] == "list"
    assert menu.text == "Welcome to OmniRoute"
    assert [c["title"] for c in menu.choices] == [
        "Shop",
        "Cart (0)",
        "My orders",
        "Language",
        "Help",
    ]

    categories = await ngozi.tap("Shop")
    assert categories.text == "Choose a category:"
    back = categories.choices[-1]
    assert (read_option_id(back["id"])[0], back["title"]) == ("0", "Back")

    products = await ngozi.tap("Noodles")
    indomie = products.choice("Indomie Chicken")
    # Too long for a row title: shortened there, whole in the description.
    assert len(indomie["title"]) <= 24
    assert indomie["title"].endswith("…")
    assert indomie["description"].startswith("Indomie Chicken 40x70g NGN")

    prompt = await ngozi.tap("Indomie Chicken")
    assert prompt.text.endswith("Enter quantity:")
    assert [(read_option_id(c["id"])[0], c["title"]) for c in prompt.choices] == [("00", "Back")]

    added = await ngozi.say("3")
    assert added.text == "Added 3 x Indomie Chicken 40x70g.\nCart: 3 items."
    assert added.body["interactive"]["type"] == "button"
    assert [c["title"] for c in added.choices] == ["Add more products", "View cart", "Checkout"]

    quote = await ngozi.tap("Checkout")
    assert "Total NGN 26,993.25" in quote.text
    payment = await ngozi.tap("Choose payment")
    confirm = await ngozi.tap("Pay on delivery")
    assert confirm.text.startswith(
        "Place order for NGN 26,993.25, pay NGN 26,993.00 cash on delivery?"
    )
    done = await ngozi.tap("Confirm")

    orders = await services.orders.recent(NGOZI)
    assert len(orders) == 1
    assert done.type == "text"
    assert done.text == (
        f"Order {orders[0].reference} placed. Total NGN 26,993.25. Pay NGN 26,993.00 in cash at"
        " the door. Thank you!"
    )
    assert payment.text == "How will you pay?"
    # Every request the fake took was a send it accepted: nothing was refused on the way.
    assert len(fake_graph.requests) == len(fake_graph.sent) == len(ngozi.inbox)
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty


async def test_a_tap_on_a_list_scrolled_back_to_is_not_read_against_the_newer_one(
    ngozi: WhatsAppUser, services: Services
) -> None:
    """Ngozi scrolls up and taps "Cart (0)" in the first menu while the products list is open:
    that row's "2" means Cart there, and the second product here. She is told the list is old
    and shown the current one; nothing is added to her cart."""
    menu = await ngozi.say("hi")
    await ngozi.tap("Shop")
    products = await ngozi.tap("Noodles")

    answer = await ngozi.tap_on(menu, "Cart (0)")

    assert answer.text == f"That list is out of date. Choose from this one.\n{products.text}"
    assert answer.choices == products.choices
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty
    # The current list's rows still work, and so does typing a number.
    assert (await ngozi.tap("Indomie Chicken")).text.endswith("Enter quantity:")


async def test_a_number_swipe_replied_to_a_list_scrolled_back_to_is_that_lists_choice(
    ngozi: WhatsAppUser, services: Services
) -> None:
    """Ngozi swipe-replies "2" to the first menu (Cart there) while the products list is open
    (the second product here): as a tap on that old menu, she is told the list is old and
    nothing is added; a number quoting the current list is its choice."""
    menu = await ngozi.say("hi")
    await ngozi.tap("Shop")
    products = await ngozi.tap("Noodles")

    answer = await ngozi.say("2", quoting=menu)

    assert answer.text == f"That list is out of date. Choose from this one.\n{products.text}"
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty
    assert (await ngozi.say("1", quoting=ngozi.screen)).text.endswith("Enter quantity:")


async def test_typing_the_number_works_like_tapping(ngozi: WhatsAppUser) -> None:
    await ngozi.say("hi")
    categories = await ngozi.say("1")
    assert categories.text == "Choose a category:"


async def test_statuses_move_the_reply_to_delivered_then_read_stays_delivered(
    ngozi: WhatsAppUser, services: Services, clock: SteppedClock
) -> None:
    menu = await ngozi.say("hi")
    for status in ("sent", "delivered", "read"):
        body = status_body(menu.id, status, recipient=ngozi.wa_id, timestamp=ngozi.now())
        response = await ngozi.client.post(
            "/channels/meta/whatsapp", data=body, headers=webhook_headers(body)
        )
        assert response.status == 200

    [delivery] = await services.notifications.for_recipient(NGOZI)
    assert delivery.provider_message_id == menu.id
    assert delivery.status is DeliveryStatus.DELIVERED


async def test_reply_outside_24_hours_is_refused_once_and_a_template_goes_instead(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    await ngozi.say("hi")
    clock.advance(DAY + 60)

    await ngozi.send(text("1"))
    clock.advance(DAY + 60)  # the reply sat in the outbox past the window (sender was down)
    assert await ngozi.receive() == []

    deliveries = await services.notifications.for_recipient(NGOZI)
    assert deliveries[-1].status is DeliveryStatus.FAILED
    assert "24 hours" in (deliveries[-1].last_error or "")
    assert len(fake_graph.requests) == 1  # only the greeting's menu ever went out


async def test_a_message_that_reached_us_a_day_late_is_not_answered_free_form(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    """Meta redelivers a webhook it could not hand over; the window counts from the message's
    `timestamp` (when WhatsApp received it), so a free-form answer would only bounce."""
    await ngozi.say("hi")
    written = ngozi.now() + 3600  # she taps "1" an hour later...
    clock.advance(DAY + 2 * 3600)  # ...and the webhook reaches us 25 hours after that
    ngozi.now = lambda: written

    await ngozi.send(text("1"))

    assert await ngozi.receive() == []
    assert len(fake_graph.requests) == 1  # only the greeting's menu ever went out
    refused = (await services.notifications.for_recipient(NGOZI))[-1]
    assert refused.status is DeliveryStatus.FAILED
    assert "24 hours" in (refused.last_error or "")


async def test_a_late_older_message_does_not_close_the_window_her_newer_one_opened(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    await ngozi.say("hi")
    now = ngozi.now
    ngozi.now = lambda: now() - 23 * 3600  # a message of yesterday, redelivered only now
    # Older than her "hi", it is not applied (the menu again), but answered within the window.
    assert (await ngozi.say("1")).text == LATE_MENU
    ngozi.now = now
    clock.advance(22 * 3600)

    await services.notifications.queue(order_update())

    assert await services.delivery.send_due() == 1
    assert fake_graph.sent_to(NGOZI.e164)[-1].text == "Order W62ACJ is on its way."


async def test_a_timestamp_ahead_of_our_clock_does_not_stretch_the_window(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    now = ngozi.now
    ngozi.now = lambda: now() + 2 * DAY  # a message stamped two days ahead
    assert (await ngozi.say("hi")).text == "Welcome to OmniRoute"
    clock.advance(DAY + 60)

    await services.notifications.queue(order_update())

    assert await services.delivery.send_due() == 0
    assert len(fake_graph.requests) == 1
    [*_, refused] = await services.notifications.for_recipient(NGOZI)
    assert refused.status is DeliveryStatus.FAILED


def order_update() -> OutboundMessage:
    """A free-form notification (no template): it may go only inside her window."""
    return OutboundMessage(
        provider="meta",
        kind=ChannelKind.WHATSAPP,
        to=NGOZI,
        reply=Reply("Order W62ACJ is on its way.", locale="en"),
        dedupe_key="order-dispatched:W62ACJ",
    )


async def test_a_shelf_longer_than_a_list_pages_as_lists_of_ten_rows(
    ngozi: WhatsAppUser, services: Services
) -> None:
    """Meta allows ten rows in a list, Back and More included: eleven products or more came as
    a page of twelve numbered lines in a text message instead of a list to tap."""
    await stock_the_noodle_shelf(services)
    shelf = await services.catalogue.products(RegionCode.LAGOS, "noodles")
    await ngozi.say("hi")
    await ngozi.tap("Shop")

    page = await ngozi.tap("Noodles")
    listed = []
    while True:
        assert page.body["interactive"]["type"] == "list"
        assert len(page.choices) <= 10
        keys = [read_option_id(c["id"])[0] for c in page.choices]
        assert keys[-1] == "0"
        listed += [c.get("description", c["title"]) for c in page.choices if c["id"][0] != "0"]
        if "98" not in keys:
            break
        listed.pop()  # the More row
        page = await ngozi.tap("More")

    assert [label.rsplit(" NGN", 1)[0] for label in listed] == [p.name for p in shelf]


async def post_late(ngozi: WhatsAppUser, words: str, *, sent_at: int) -> None:
    """A text Ngozi sent at `sent_at` (Unix seconds) whose webhook reaches us only now."""
    body = message_body(
        text(words),
        wa_id=ngozi.wa_id,
        name=ngozi.name,
        message_id=wamid(ngozi.number, f"late-{sent_at}-{words}"),
        timestamp=sent_at,
    )
    response = await ngozi.client.post(
        "/channels/meta/whatsapp", data=body, headers=webhook_headers(body)
    )
    assert response.status == 200, await response.text()


async def test_a_quantity_overtaken_by_a_newer_message_changes_nothing_and_gets_the_menu(
    ngozi: WhatsAppUser, services: Services, clock: SteppedClock
) -> None:
    await ngozi.say("hi")
    for label in ("Shop", "Noodles"):
        await ngozi.tap(label)
    typed_first = ngozi.now() + 30
    clock.advance(60)
    assert (await ngozi.tap("Indomie Chicken")).text.endswith("Enter quantity:")

    await post_late(ngozi, "5", sent_at=typed_first)  # "5", typed before the tap, comes last

    late = await ngozi.reply()
    assert late.text == LATE_MENU
    assert [c["title"] for c in late.choices][:2] == ["Shop", "Cart (0)"]
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty
    # The conversation goes on from the menu she now sees.
    assert (await ngozi.tap("My orders")).text.startswith("You have no orders yet.")


async def test_a_late_confirm_places_no_order(
    ngozi: WhatsAppUser, services: Services, clock: SteppedClock
) -> None:
    await ngozi.say("hi")
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ngozi.tap(label)
    await ngozi.say("3")
    await ngozi.tap("Checkout")
    await ngozi.tap("Choose payment")
    typed_first = ngozi.now() + 10
    clock.advance(20)
    confirm = await ngozi.tap("Pay on delivery")
    assert "Confirm" in [c["title"] for c in confirm.choices]

    await post_late(ngozi, "1", sent_at=typed_first)  # a "1" meant for an earlier screen

    assert (await ngozi.reply()).text == LATE_MENU
    assert await services.orders.recent(NGOZI) == []
    assert not (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty


async def test_a_message_older_than_the_window_is_recorded_and_changes_nothing(
    ngozi: WhatsAppUser, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
) -> None:
    """She opted out, then wrote ANZA; the webhook reaches us 25 hours later."""
    await services.customers.set_opted_out(NGOZI, opted_out=True)
    written = ngozi.now()
    clock.advance(DAY + 3600)

    await post_late(ngozi, "START", sent_at=written)

    assert await ngozi.receive() == []
    assert fake_graph.requests == []
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.opted_out


JUMA = Phone("+254711000001")
KARIBU = ["Nunua", "Kikapu (0)", "Oda zangu", "Lugha", "Msaada"]


@pytest.fixture
def juma(ngozi: WhatsAppUser) -> WhatsAppUser:
    return WhatsAppUser(
        ngozi.client, ngozi.fake, ngozi.flush, ngozi.now, number=JUMA.e164, name="Juma Otieno"
    )


@pytest.mark.parametrize("words", ["sawa", "poa", "vipi", "menu", "oda", "back", "price"])
async def test_an_everyday_word_is_no_product_one_letter_away(
    juma: WhatsAppUser, words: str
) -> None:
    """Juma opens the chat with "sawa" (OK) or "poa" (cool): he got the toothpaste's quantity
    screen ("dawa ya meno") or the powdered milk's ("maziwa ya poda"), as a short word one letter
    off a product word was read as a typo of it. He gets the main menu; at the menu too."""
    opened = await juma.say(words)
    assert opened.text == "Karibu OmniRoute"
    assert [c["title"] for c in opened.choices] == KARIBU
    at_menu = await juma.say(words)  # "menu" and "back" are keywords there: the menu alone
    assert at_menu.text.endswith("Karibu OmniRoute")
    assert [c["title"] for c in at_menu.choices] == KARIBU


async def test_back_from_the_cart_says_what_was_added_not_the_line_looked_at(
    juma: WhatsAppUser, services: Services
) -> None:
    """Juma added cola after indomie, opened the cart, took the indomie out and tapped Back:
    the screen read "Umeongeza 2 x Indomie Chicken" (the line he had just removed, with the
    cola's count). It says again what he added."""
    await juma.say("habari")
    await juma.say("katoni 5 za indomie ya kuku na katoni 2 za cola")
    await juma.tap("Ndiyo")
    added = await juma.tap("Ndiyo")
    assert added.text == "Umeongeza 2 x Cola 24x35cl.\nKikapu: bidhaa 7."
    await juma.tap("Tazama kikapu")
    await juma.tap("Indomie Chicken")
    await juma.tap("Ondoa")

    back = await juma.tap("Rudi")

    assert back.text == "Umeongeza 2 x Cola 24x35cl.\nKikapu: bidhaa 2."
    cart = await services.orders.cart(JUMA, RegionCode.NAIROBI)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("DRK-COLA-35", 2)]


INDOMIE_5 = "Ongeza 5 x Indomie Chicken 40x70g (KES 4,025.00)?"


@pytest.mark.parametrize(
    ("words", "asks"),
    [
        ("Habari, nataka katoni 5 za cola", "Ongeza 5 x Cola 24x35cl (KES 4,675.00)?"),
        ("Habari za asubuhi. Nataka katoni 5 za indomie ya kuku, asante", INDOMIE_5),
        ("Mambo, nipe indomie kuku 5", INDOMIE_5),
        ("Good morning, 5 cartons indomie chicken please", INDOMIE_5),
        ("Hello, I need 5 cartons of cola", "Ongeza 5 x Cola 24x35cl (KES 4,675.00)?"),
        ("Sawa, nataka katoni 5 za cola", "Ongeza 5 x Cola 24x35cl (KES 4,675.00)?"),
        ("Vipi, nipe cola 5", "Ongeza 5 x Cola 24x35cl (KES 4,675.00)?"),
        ("ok, 5 cartons of cola", "Ongeza 5 x Cola 24x35cl (KES 4,675.00)?"),
    ],
)
async def test_an_order_opened_with_a_greeting_is_read(
    juma: WhatsAppUser, words: str, asks: str
) -> None:
    """Juma writes "Habari, nataka katoni 5 za cola" (hello, I want …): it got
    'Hakuna bidhaa "habari cola"' above the menu, the greeting read as part of the product's
    name. A greeting is passed over as "nataka" and "please" are."""
    await juma.say("habari")

    asked = await juma.say(words)

    assert asked.text == asks
    assert [c["title"] for c in asked.choices] == ["Ndiyo", "Hapana"]


@pytest.mark.parametrize(
    ("answer", "asks"),
    [
        ("kuku", "Ongeza 5 x Indomie Chicken 40x70g (KES 4,025.00)?"),
        ("ya kitunguu", "Ongeza 5 x Indomie Onion 40x70g (KES 4,025.00)?"),
        ("chicken", "Ongeza 5 x Indomie Chicken 40x70g (KES 4,025.00)?"),
    ],
)
async def test_which_one_is_answered_by_naming_it(
    juma: WhatsAppUser, answer: str, asks: str
) -> None:
    """At 'Ipi kwa 5 x "indomie"?' Juma writes "kuku" (chicken) rather than tapping: he got
    the chicken noodles' quantity screen, the 5 he had asked for forgotten. Naming one of the
    products listed picks it, as a tap does."""
    await juma.say("habari")
    which = await juma.say("nataka katoni 5 za indomie")
    assert which.text == 'Ipi kwa 5 x "indomie"?'

    asked = await juma.say(answer)

    assert asked.text == asks
    assert [c["title"] for c in asked.choices] == ["Ndiyo", "Hapana"]


async def test_a_tap_on_a_conversation_that_ended_says_the_list_is_out_of_date(
    juma: WhatsAppUser, services: Services, clock: SteppedClock
) -> None:
    """Juma left 'Ongeza 5 x Cola…? Ndiyo / Hapana' for an hour (the conversation lapsed after
    30 minutes) and then tapped Ndiyo: he got the main menu as if he had said hello, and could
    only guess that nothing was added. He is told the list is out of date above the menu."""
    await juma.say("habari")
    await juma.say("katoni 5 za cola")
    clock.advance(3600)

    answer = await juma.tap("Ndiyo")

    assert answer.text == "Orodha hiyo imepitwa na wakati. Chagua kwenye hii.\nKaribu OmniRoute"
    assert [c["title"] for c in answer.choices] == KARIBU
    assert (await services.orders.cart(JUMA, RegionCode.NAIROBI)).is_empty


@pytest.mark.parametrize("yes", ["Ndiyo.", "Sawa!", "ndio tafadhali", "Yes please", "OK."])
async def test_yes_written_as_people_write_it_adds_the_typed_order(
    juma: WhatsAppUser, services: Services, yes: str
) -> None:
    """'Ndiyo.' or 'Sawa!' (a full stop, an exclamation mark, a please) answered 'Ongeza 5 x
    Cola…?' with 'Tafadhali chagua namba kwenye orodha.', so nothing was added."""
    await juma.say("habari")
    await juma.say("katoni 5 za cola")

    added = await juma.say(yes)

    assert added.text == "Umeongeza 5 x Cola 24x35cl.\nKikapu: bidhaa 5."
    cart = await services.orders.cart(JUMA, RegionCode.NAIROBI)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("DRK-COLA-35", 5)]


@pytest.mark.parametrize("no", ["Hapana.", "hapana asante", "No!"])
async def test_no_written_as_people_write_it_adds_nothing(
    juma: WhatsAppUser, services: Services, no: str
) -> None:
    await juma.say("habari")
    await juma.say("katoni 5 za cola")

    back = await juma.say(no)

    assert back.text.endswith("Karibu OmniRoute")
    assert (await services.orders.cart(JUMA, RegionCode.NAIROBI)).is_empty


@pytest.mark.parametrize("keyword", ["Hali?", "HALI.", "Msaada!", "status?"])
async def test_a_keyword_with_a_question_mark_is_still_the_keyword(
    juma: WhatsAppUser, keyword: str
) -> None:
    """'Hali?' (status?) got 'Hakuna bidhaa "hali"' (no product "hali") above the menu."""
    await juma.say("habari")

    answer = await juma.say(keyword)

    assert answer.text.startswith(("Bado huna oda.", "Agiza bidhaa kwa simu yako"))


@pytest.mark.parametrize("typed", ["1.", "1)", " 1 "])
async def test_a_number_typed_as_a_list_is_numbered_is_the_choice(
    juma: WhatsAppUser, typed: str
) -> None:
    """'1.' typed under the menu got 'Tafadhali chagua namba kwenye orodha.' above it."""
    await juma.say("habari")

    answer = await juma.say(typed)

    assert "Tambi na Pasta" in [choice["title"] for choice in answer.choices]
