"""Sentences retailers type for what the menu offers, in English and Swahili: "where is my
order", "order yangu iko wapi", "how much do I owe", "deni langu", "help me", "cancel my last
order", "show me the menu". Each gets the screen its menu entry answers. Each message goes in as
the provider's own webhook: Africa's Talking's SMS form, Meta's WhatsApp Cloud JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser

NGOZI = "+2348030000001"
JUMA = "+254711000001"
MAIN_MENU = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"
HELP = (
    "Order stock and pay on delivery. 0 goes back, 00 to the main menu; where you type a number "
    "or code, 00 goes back. Help line: 0800 123 456.\n0. Back"
)
MSAADA = "Agiza bidhaa kwa simu yako na ulipe ukipokea."
HINT = "Choose a number, or type an order, e.g. 5 cartons Indomie.\n"

Client = TestClient[Any, Any]


async def place_order_over_ussd(gateway: Client, phone: str = NGOZI) -> str:
    """Three cartons of Indomie, paid on delivery: the order's reference."""
    english = not phone.startswith("+254")
    ussd = UssdPhone(gateway, phone)
    await ussd.dial()
    await ussd.choose("Shop" if english else "Nunua")
    await ussd.press("1")  # noodles
    await ussd.choose("Indomie Chicken")
    await ussd.press("3")
    labels = ("Checkout", "Choose payment", "Pay on delivery", "Confirm")
    for label in labels if english else ("Lipia", "Chagua malipo", "Lipa ukipokea", "Thibitisha"):
        await ussd.choose(label)
    return ussd.screens[-1].body.split()[1]


class TestAfricasTalkingSms:
    @pytest.fixture
    def settings(self, database_url: str, fake_at: FakeAfricasTalking) -> Settings:
        return fake_at.settings(database_url)

    @pytest.fixture
    async def gateway(self, client: Client, services: Services) -> Client:
        await services.delivery.stop()
        return client

    @pytest.fixture
    def ngozi(self, gateway: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
        return SmsPhone(gateway, services, fake_at, NGOZI)

    @pytest.fixture
    def juma(self, gateway: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
        return SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")

    @pytest.mark.parametrize(
        "sentence",
        ["Where is my order?", "where's my order", "When will my order arrive?", "order status"],
    )
    async def test_where_is_my_order_as_the_first_text_lists_her_orders(
        self, ngozi: SmsPhone, gateway: Client, sentence: str
    ) -> None:
        reference = await place_order_over_ussd(gateway)
        await ngozi.receive()  # the order confirmation

        status = await ngozi.text(sentence)

        assert status == f"Your last orders (NGN):\n{reference} Placed 26,993.25\n0. Back"

    async def test_status_of_an_order_by_its_reference_in_the_middle_of_a_conversation(
        self, ngozi: SmsPhone, gateway: Client
    ) -> None:
        reference = await place_order_over_ussd(gateway)
        await ngozi.receive()
        assert await ngozi.text("Hi") == MAIN_MENU
        await ngozi.text("1")  # the categories

        status = await ngozi.text(f"What is the status of order {reference}")

        assert status == (
            f"Order {reference}: Placed\nTotal NGN 26,993.25."
            " Pay NGN 26,993.00 in cash at the door.\n0. Back"
        )
        assert (await ngozi.text("0")).startswith("Choose a category:\n1. Noodles")

    @pytest.mark.parametrize("sentence", ["where is order {}", "Where is my order {}?"])
    async def test_where_is_order_by_its_reference_as_the_first_text(
        self, ngozi: SmsPhone, gateway: Client, sentence: str
    ) -> None:
        """Her sixth order back is not on My orders: its reference still finds it."""
        reference = await place_order_over_ussd(gateway)
        for _ in range(5):
            await place_order_over_ussd(gateway)
        await ngozi.receive()

        status = await ngozi.text(sentence.format(reference.lower()))

        assert status == (
            f"Order {reference}: Placed\nTotal NGN 26,993.25."
            " Pay NGN 26,993.00 in cash at the door.\n0. Back"
        )

    async def test_status_with_a_reference_answers_that_order(
        self, ngozi: SmsPhone, juma: SmsPhone, gateway: Client
    ) -> None:
        """The confirmation says "Reply STATUS"; she replies with the order's reference too."""
        hers = await place_order_over_ussd(gateway)
        his = await place_order_over_ussd(gateway, JUMA)
        await ngozi.receive()
        await juma.receive()  # the confirmations

        status = await ngozi.text(f"STATUS {hers}")
        hali = await juma.text(f"Hali {his}")

        # pay on delivery: the cash each hands over at the door, as the closing text said
        assert status == (
            f"Order {hers}: Placed\nTotal NGN 26,993.25."
            " Pay NGN 26,993.00 in cash at the door.\n0. Back"
        )
        assert hali == (
            f"Oda {his}: Imewekwa\nJumla KES 2,521.26. Lipa KES 2,521.00 taslimu mlangoni.\n0. Rudi"
        )

    async def test_my_order_with_its_reference_is_that_orders_screen(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        """She named her order with no "where" or "status" ("my order 222224", "order
        222224") and got 'No product called "my"' or 'Choose a number'."""
        order = await services.orders.place(
            PlaceOrder(
                Phone(NGOZI),
                RegionCode.LAGOS,
                (CartLine("NDL-INDO-CHK", 3),),
                PaymentMethod.ON_DELIVERY,
                "ngozi-1",
            )
        )
        await ngozi.receive()
        await ngozi.text("Hi")

        shown = await ngozi.text(f"my order {order.reference}")
        await ngozi.text("0")
        other = await ngozi.text("order 234679")

        assert shown.startswith(f"Order {order.reference}: Placed\n"), shown
        assert other.startswith("No order 234679 found.\nWelcome to OmniRoute"), other

    async def test_status_with_what_is_no_reference_says_no_such_order(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        """She got 'No product called "status"': "STATUS 1234567" was an order of a product."""
        await ngozi.text("Hi")

        answer = await ngozi.text("STATUS 1234567")

        assert answer.startswith("No order 1234567 found.\nWelcome to OmniRoute"), answer
        assert (await services.orders.cart(Phone(NGOZI), RegionCode.LAGOS)).is_empty

    async def test_an_order_word_with_what_is_no_reference_says_no_such_order(
        self, ngozi: SmsPhone
    ) -> None:
        """She got the typing hint: "order 1234567" is no order of a product."""
        await ngozi.text("Hi")

        answer = await ngozi.text("order 1234567")

        assert answer.startswith("No order 1234567 found.\nWelcome to OmniRoute"), answer

    async def test_someone_elses_reference_is_not_found_and_changes_nothing(
        self, ngozi: SmsPhone, gateway: Client
    ) -> None:
        theirs = await place_order_over_ussd(gateway, "+2348030000002")
        await ngozi.text("Hi")
        categories = await ngozi.text("1")

        status = await ngozi.text(f"where is order {theirs}")

        assert status.startswith(f"No order {theirs} found.\nChoose a category:\n1. "), status
        assert await ngozi.text("0") == MAIN_MENU  # Back from the categories, where she was
        assert await ngozi.text("1") == categories

    async def test_an_unknown_reference_is_not_found_as_the_first_text(
        self, ngozi: SmsPhone
    ) -> None:
        assert await ngozi.text("where is order W62ACJ") == f"No order W62ACJ found.\n{MAIN_MENU}"

    @pytest.mark.parametrize(
        "sentence", ["order yangu iko wapi", "Oda yangu iko wapi?", "status ya order"]
    )
    async def test_order_yangu_iko_wapi_lists_his_orders_in_swahili(
        self, juma: SmsPhone, sentence: str
    ) -> None:
        assert await juma.text(sentence) == "Bado huna oda.\n0. Rudi"

    async def test_status_ya_order_with_its_reference_at_the_main_menu(
        self, juma: SmsPhone, gateway: Client
    ) -> None:
        reference = await place_order_over_ussd(gateway, JUMA)
        await juma.receive()
        await juma.text("Habari")

        status = await juma.text(f"status ya order {reference}")

        assert status.startswith(f"Oda {reference}: Imewekwa\nJumla KES "), status
        assert status.endswith(". Lipa KES 2,521.00 taslimu mlangoni.\n0. Rudi"), status

    async def test_status_ya_order_of_an_unknown_reference_in_swahili(self, juma: SmsPhone) -> None:
        menu = await juma.text("Habari")

        assert await juma.text("status ya order W62ACJ") == f"Hakuna oda W62ACJ.\n{menu}"

    async def test_how_much_do_i_owe_is_her_balance(self, ngozi: SmsPhone, gateway: Client) -> None:
        await place_order_over_ussd(gateway)
        await ngozi.receive()

        balance = await ngozi.text("How much do I owe?")

        assert balance == "You owe NGN 26,993.00 for 1 order to pay on delivery.\n0. Back"

    @pytest.mark.parametrize("sentence", ["deni langu", "Nadaiwa kiasi gani?", "salio langu"])
    async def test_deni_langu_is_his_balance_in_swahili(
        self, juma: SmsPhone, sentence: str
    ) -> None:
        await juma.text("Habari")

        assert await juma.text(sentence) == "Huna deni. Asante!\n0. Rudi"

    @pytest.mark.parametrize(
        "sentence", ["help me", "I want to talk to a person", "Can I speak to an agent?"]
    )
    async def test_help_me_gets_the_help_screen(self, ngozi: SmsPhone, sentence: str) -> None:
        await ngozi.text("Hi")

        assert await ngozi.text(sentence) == HELP

    @pytest.mark.parametrize("sentence", ["msaada tafadhali", "nisaidie", "nataka kuongea na mtu"])
    async def test_msaada_gets_the_help_screen_in_swahili(
        self, juma: SmsPhone, sentence: str
    ) -> None:
        assert (await juma.text(sentence)).startswith(MSAADA)

    async def test_cancel_my_last_order_gets_the_help_line_and_cancels_nothing(
        self, ngozi: SmsPhone, gateway: Client, services: Services
    ) -> None:
        """No customer cancels an order in a conversation today: she is given the help line."""
        reference = await place_order_over_ussd(gateway)
        await ngozi.receive()

        assert await ngozi.text("Please cancel my last order") == HELP

        [order] = await services.orders.recent(Phone(NGOZI), limit=5)
        assert (order.reference, order.status.value) == (reference, "placed")

    async def test_ghairi_oda_yangu_gets_the_help_line_in_swahili(self, juma: SmsPhone) -> None:
        assert (await juma.text("Naomba kughairi oda yangu")).startswith(MSAADA)

    async def test_show_me_the_menu_goes_to_the_main_menu(self, ngozi: SmsPhone) -> None:
        await ngozi.text("Hi")
        await ngozi.text("1")
        await ngozi.text("1")  # a product list

        assert await ngozi.text("show me the menu please") == MAIN_MENU

    async def test_an_unclear_sentence_keeps_the_typing_hint(self, ngozi: SmsPhone) -> None:
        await ngozi.text("Hi")

        assert await ngozi.text("the weather is nice today") == HINT + MAIN_MENU

    async def test_a_typed_order_is_still_an_order(
        self, juma: SmsPhone, services: Services
    ) -> None:
        which = await juma.text("nataka katoni 5 za Indomie")

        assert which.startswith('Ipi kwa 5 x "indomie"?\n1. Indomie Chicken'), which
        cart = await services.orders.cart(Phone(JUMA), RegionCode.NAIROBI)
        assert cart.is_empty

    @pytest.mark.parametrize("first", [True, False])
    async def test_help_me_order_5_indomie_is_an_order(
        self, ngozi: SmsPhone, services: Services, first: bool
    ) -> None:
        if not first:
            await ngozi.text("Hi")

        which = await ngozi.text("help me order 5 indomie")

        assert which.startswith('Which one for 5 x "indomie"?\n1. Indomie Chicken'), which
        assert (await ngozi.text("1")).startswith("Add 5 x Indomie Chicken 40x70g (")
        assert (await ngozi.text("1")).startswith("Added 5 x Indomie Chicken 40x70g.")
        cart = await services.orders.cart(Phone(NGOZI), RegionCode.LAGOS)
        assert [(line.sku, line.quantity) for line in cart.lines] == [("NDL-INDO-CHK", 5)]

    async def test_help_me_order_5_indomie_where_no_order_is_read_is_help(
        self, ngozi: SmsPhone
    ) -> None:
        """My orders reads no typed order ("5 cartons indomie" there is no choice): the
        sentence keeps its meaning."""
        await ngozi.text("Hi")
        await ngozi.text("3")  # My orders

        assert await ngozi.text("help me order 5 indomie") == HELP

    async def test_nisaidie_kuagiza_katoni_5_za_indomie_is_an_order(
        self, juma: SmsPhone, services: Services
    ) -> None:
        which = await juma.text("Nisaidie kuagiza katoni 5 za Indomie")

        assert which.startswith('Ipi kwa 5 x "indomie"?\n1. Indomie Chicken'), which
        cart = await services.orders.cart(Phone(JUMA), RegionCode.NAIROBI)
        assert cart.is_empty

    async def test_how_much_do_i_owe_for_3_orders_is_still_her_balance(
        self, ngozi: SmsPhone
    ) -> None:
        await ngozi.text("Hi")

        balance = await ngozi.text("how much do I owe for 3 orders")

        assert balance == "You owe nothing. Thank you!\n0. Back"

    async def test_bal_with_a_number_after_it_is_her_balance(self, ngozi: SmsPhone) -> None:
        """She got 'No product called "bal"': "BAL 500" was an order of 500 of "bal"."""
        await ngozi.text("Hi")

        balance = await ngozi.text("BAL 500")

        assert balance == "You owe nothing. Thank you!\n0. Back"

    @pytest.mark.parametrize("sentence", ["cancel the order", "show me the menu"])
    async def test_a_sentence_at_confirm_keeps_her_checkout(
        self, ngozi: SmsPhone, services: Services, sentence: str
    ) -> None:
        await ngozi.text("Hi")
        await ngozi.text("5 cartons indomie chicken")
        await ngozi.text("1")  # Yes
        await ngozi.text("3")  # Checkout
        await ngozi.text("1")  # Choose payment
        confirm = await ngozi.text("1")  # Pay on delivery
        assert confirm.startswith("Place order for NGN "), confirm

        again = await ngozi.text(sentence)

        assert again == f"Please choose a number from the list.\n{confirm}"
        placed = await ngozi.text("1")
        assert placed.startswith("Order "), placed
        [order] = await services.orders.recent(Phone(NGOZI), limit=5)
        assert [(line.sku, line.quantity) for line in order.lines] == [("NDL-INDO-CHK", 5)]

    async def test_where_is_my_order_at_confirm_still_lists_her_orders(
        self, ngozi: SmsPhone, gateway: Client, services: Services
    ) -> None:
        reference = await place_order_over_ussd(gateway)
        await ngozi.receive()
        await ngozi.text("5 cartons indomie chicken")
        await ngozi.text("1")  # Yes
        await ngozi.text("3")  # Checkout
        await ngozi.text("1")  # Choose payment
        assert (await ngozi.text("1")).startswith("Place order for NGN ")

        status = await ngozi.text("where is my order?")

        assert status.startswith(f"Your last orders (NGN):\n{reference} "), status
        cart = await services.orders.cart(Phone(NGOZI), RegionCode.LAGOS)
        assert [(line.sku, line.quantity) for line in cart.lines] == [("NDL-INDO-CHK", 5)]

    @pytest.mark.parametrize(
        ("screens", "question", "answer"),
        [
            (3, "where is my order?", "Your last orders (NGN):\n"),  # at Choose payment
            (4, "BAL", "You owe NGN 26,993.00 for 1 order to pay on delivery."),  # at Confirm
        ],
    )
    async def test_back_after_a_question_mid_checkout_returns_to_her_checkout(
        self,
        ngozi: SmsPhone,
        gateway: Client,
        services: Services,
        screens: int,
        question: str,
        answer: str,
    ) -> None:
        """She asked where her order was, or what she owes, at Choose payment or Confirm: Back
        went to the main menu, and she had to find her way to checkout again."""
        await place_order_over_ussd(gateway)
        await ngozi.receive()
        await ngozi.text("5 cartons indomie chicken")
        left = ""
        for key in ("1", "3", "1", "1")[:screens]:  # Yes, Checkout, Choose payment, on delivery
            left = await ngozi.text(key)

        assert (await ngozi.text(question)).startswith(answer)
        back = await ngozi.text("0")

        assert back == left
        if screens == 3:
            await ngozi.text("1")  # Pay on delivery
        placed = await ngozi.text("1")  # Confirm
        assert placed.startswith("Order "), placed
        order, _ = await services.orders.recent(Phone(NGOZI), limit=5)  # newest first
        assert [(line.sku, line.quantity) for line in order.lines] == [("NDL-INDO-CHK", 5)]


class TestMetaWhatsApp:
    @pytest.fixture
    async def fake_graph(self) -> AsyncIterator[FakeGraphApi]:
        fake = FakeGraphApi()
        await fake.start()
        yield fake
        await fake.close()

    @pytest.fixture
    def settings(self, database_url: str, fake_graph: FakeGraphApi) -> Settings:
        return fake_graph.settings(database_url)

    @pytest.fixture
    def user(
        self, client: Client, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
    ) -> Callable[[str], WhatsAppUser]:
        def make(number: str) -> WhatsAppUser:
            return WhatsAppUser(
                client,
                fake_graph,
                flush=services.delivery.send_due,
                now=lambda: int(clock.now().timestamp()),
                number=number,
            )

        return make

    @pytest.fixture
    async def ngozi(self, user: Callable[[str], WhatsAppUser], services: Services) -> WhatsAppUser:
        await services.delivery.stop()
        return user(NGOZI)

    @pytest.fixture
    async def juma(self, user: Callable[[str], WhatsAppUser], services: Services) -> WhatsAppUser:
        await services.delivery.stop()
        return user(JUMA)

    async def test_order_yangu_iko_wapi_on_whatsapp(
        self, juma: WhatsAppUser, client: Client
    ) -> None:
        reference = await place_order_over_ussd(client, JUMA)

        status = await juma.say("Order yangu iko wapi?")

        assert status.text.startswith(f"Oda zako za mwisho (KES):\n{reference} "), status.text

    async def test_oda_by_its_reference_iko_wapi_on_whatsapp(
        self, juma: WhatsAppUser, client: Client
    ) -> None:
        reference = await place_order_over_ussd(client, JUMA)

        status = await juma.say(f"Oda {reference} iko wapi?")

        assert status.text.startswith(f"Oda {reference}: Imewekwa\nJumla KES "), status.text

    async def test_an_unclear_text_under_a_whatsapp_list_asks_her_to_tap(
        self, ngozi: WhatsAppUser
    ) -> None:
        """She was told to choose a number under a list whose rows show none."""
        await ngozi.say("Hi")

        hint = await ngozi.say("tomorrow maybe")  # "hello there" is a greeting: the menu

        assert hint.text.startswith("Tap a choice, or type an order, e.g. 5 cartons Indomie.\n")

    async def test_how_much_do_i_owe_on_whatsapp(self, ngozi: WhatsAppUser) -> None:
        await ngozi.say("Hi")

        assert (await ngozi.say("how much do I owe")).text == "You owe nothing. Thank you!"

    async def test_help_me_on_whatsapp(self, ngozi: WhatsAppUser) -> None:
        help_screen = await ngozi.say("Hello, please help me")

        assert help_screen.text.startswith("Order stock and pay on delivery."), help_screen.text

    async def test_back_after_help_at_confirm_returns_to_confirm_on_whatsapp(
        self, ngozi: WhatsAppUser
    ) -> None:
        await ngozi.say("5 cartons indomie chicken")
        await ngozi.tap("Yes")
        await ngozi.tap("Checkout")
        await ngozi.tap("Choose payment")
        confirm = await ngozi.tap("Pay on delivery")
        assert confirm.text.startswith("Place order for NGN "), confirm.text

        assert (await ngozi.say("help")).text.startswith("Order stock and pay on delivery.")
        back = await ngozi.tap("Back")

        assert back.text == confirm.text
        assert (await ngozi.tap("Confirm")).text.startswith("Order "), ngozi.screen.text
