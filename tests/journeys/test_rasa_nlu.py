"""Rasa NLU behind the built-in steps: with OMNIROUTE_RASA_URL set, a text that neither the menu,
the keywords, the sentence matcher nor the order reader understood is sent to Rasa's
`POST /model/parse`, and a confident intent of ours gets its screen. Rasa slow, down or unsure
leaves the answer the retailer gets without it. Texts go in as Africa's Talking's SMS form and
Meta's WhatsApp JSON; Rasa is a loopback server speaking its HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

import core.rasa
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.logs import captured_logs
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser
from tests.support.providers.rasa import FakeRasa

NGOZI = "+2348030000001"
JUMA = "+254711000001"
MAIN_MENU = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"
HINT = "Choose a number, or type an order, e.g. 5 cartons Indomie.\n"
ASKED = "any news on the stuff I bought yesterday?"

Client = TestClient[Any, Any]


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    await fake.start()
    yield fake
    await fake.close()


class TestAfricasTalkingSms:
    @pytest.fixture
    def settings(self, database_url: str, fake_at: FakeAfricasTalking, rasa: FakeRasa) -> Settings:
        return fake_at.settings(database_url, rasa_url=rasa.url, rasa_timeout_seconds=1.5)

    @pytest.fixture
    async def ngozi(
        self, client: Client, services: Services, fake_at: FakeAfricasTalking
    ) -> SmsPhone:
        await services.delivery.stop()
        return SmsPhone(client, services, fake_at, NGOZI)

    @pytest.fixture
    async def juma(
        self, client: Client, services: Services, fake_at: FakeAfricasTalking
    ) -> SmsPhone:
        await services.delivery.stop()
        return SmsPhone(client, services, fake_at, JUMA, network_code="63902")

    async def test_a_sentence_rasa_reads_as_order_status_lists_her_orders(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands(ASKED, "order_status", 0.93)
        await ngozi.text("Hi")

        assert await ngozi.text(ASKED) == "You have no orders yet.\n0. Back"
        assert rasa.parsed == [{"text": ASKED, "message_id": f"at-sms:{ngozi.last_id}"}]
        assert (await ngozi.text("0")).startswith("Welcome to OmniRoute")

    async def test_a_first_text_rasa_reads_as_balance_gets_it_in_swahili(
        self, juma: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands("ni pesa ngapi nimebaki kulipa", "check_balance", 0.88)

        assert await juma.text("ni pesa ngapi nimebaki kulipa") == "Huna deni. Asante!\n0. Rudi"

    async def test_an_unsure_rasa_leaves_the_typing_hint(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands(ASKED, "order_status", 0.55)  # under the 0.7 threshold
        await ngozi.text("Hi")

        assert await ngozi.text(ASKED) == HINT + MAIN_MENU
        assert await ngozi.text("the weather is nice") == HINT + MAIN_MENU  # out_of_scope
        assert [p["text"] for p in rasa.parsed] == [ASKED, "the weather is nice"]

    async def test_what_the_built_in_steps_read_never_goes_to_rasa(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        await ngozi.text("STATUS")
        await ngozi.text("where is my order")
        await ngozi.text("00")
        assert (await ngozi.text("5 cartons indomie chicken")).startswith("Add 5 x Indomie")
        await ngozi.text("2")

        assert rasa.parsed == []

    async def test_a_sentence_rasa_reads_as_status_naming_a_reference_shows_that_order(
        self, ngozi: SmsPhone, rasa: FakeRasa, services: Services
    ) -> None:
        order = await services.orders.place(
            PlaceOrder(
                Phone(NGOZI),
                RegionCode.LAGOS,
                (CartLine("NDL-INDO-CHK", 3),),
                PaymentMethod.ON_DELIVERY,
                "rasa-reference",
            )
        )
        asked = f"any news on {order.reference}?"
        rasa.understands(asked, "order_status", 0.93)
        rasa.understands("any news on W62ACJ?", "order_status", 0.93)
        await ngozi.receive()  # the confirmation
        await ngozi.text("Hi")
        orders = await ngozi.text("3")  # My orders, which reads no typed order

        status = await ngozi.text(asked)
        back = await ngozi.text("0")
        unknown = await ngozi.text("any news on W62ACJ?")

        assert status == (
            f"Order {order.reference}: Placed\nTotal NGN 26,993.25."
            " Pay NGN 26,993.00 in cash at the door.\n0. Back"
        )
        assert back == orders
        assert unknown == f"No order W62ACJ found.\n{orders}"

    async def test_a_first_text_rasa_reads_as_status_of_an_unknown_reference(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands("any news on W62ACJ?", "order_status", 0.93)

        assert await ngozi.text("any news on W62ACJ?") == f"No order W62ACJ found.\n{MAIN_MENU}"

    async def test_a_cancel_rasa_reads_at_confirm_keeps_her_checkout(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        """At Confirm only a clear ask for status, balance or help leaves the screen."""
        rasa.understands("drop it, I changed my mind", "cancel_order", 0.95)
        await ngozi.text("5 cartons indomie chicken")
        await ngozi.text("1")  # Yes
        await ngozi.text("3")  # Checkout
        await ngozi.text("1")  # Choose payment
        confirm = await ngozi.text("1")  # Pay on delivery
        assert confirm.startswith("Place order for NGN "), confirm

        again = await ngozi.text("drop it, I changed my mind")

        assert again == f"Please choose a number from the list.\n{confirm}"
        assert [p["text"] for p in rasa.parsed] == ["drop it, I changed my mind"]
        assert (await ngozi.text("1")).startswith("Order ")

    async def test_a_slow_rasa_is_given_up_and_she_gets_the_built_in_answer(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands(ASKED, "order_status", 0.93)
        await ngozi.text("Hi")
        rasa.delay = 5.0

        with captured_logs(core.rasa) as logs:
            assert await ngozi.text(ASKED) == HINT + MAIN_MENU

        assert [line["event"] for line in logs] == ["rasa.unavailable"]

    async def test_a_rasa_that_is_down_or_failing_leaves_the_built_in_answer(
        self, ngozi: SmsPhone, rasa: FakeRasa
    ) -> None:
        rasa.understands(ASKED, "order_status", 0.93)
        await ngozi.text("Hi")
        rasa.status = 500
        with captured_logs(core.rasa) as logs:
            assert await ngozi.text(ASKED) == HINT + MAIN_MENU
        await rasa.close()
        with captured_logs(core.rasa) as more:
            assert await ngozi.text(ASKED) == HINT + MAIN_MENU

        assert [line["event"] for line in [*logs, *more]] == ["rasa.refused", "rasa.unavailable"]


class TestMetaWhatsApp:
    @pytest.fixture
    async def fake_graph(self) -> AsyncIterator[FakeGraphApi]:
        fake = FakeGraphApi()
        await fake.start()
        yield fake
        await fake.close()

    @pytest.fixture
    def settings(self, database_url: str, fake_graph: FakeGraphApi, rasa: FakeRasa) -> Settings:
        return fake_graph.settings(database_url, rasa_url=rasa.url)

    @pytest.fixture
    async def ngozi(
        self, client: Client, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
    ) -> WhatsAppUser:
        await services.delivery.stop()
        return WhatsAppUser(
            client,
            fake_graph,
            flush=services.delivery.send_due,
            now=lambda: int(clock.now().timestamp()),
            number=NGOZI,
        )

    async def test_a_request_for_a_person_rasa_reads_gets_help_on_whatsapp(
        self, ngozi: WhatsAppUser, rasa: FakeRasa
    ) -> None:
        rasa.understands("can somebody from your side call me back", "human_handoff", 0.97)
        await ngozi.say("Hi")

        help_screen = await ngozi.say("can somebody from your side call me back")

        assert help_screen.text.startswith("Order stock and pay on delivery."), help_screen.text
        [asked] = rasa.parsed  # not "Hi": a greeting gets the menu
        assert asked["text"] == "can somebody from your side call me back"
        assert asked["message_id"].startswith("wamid.")
