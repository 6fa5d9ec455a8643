"""Africa's Talking voice callbacks, byte for byte, and the voice XML we answer with.

A caller follows each GetDigits' callbackUrl exactly as Africa's Talking does: the next callback
goes to that URL (path and query) with the keys pressed in `dtmfDigits`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from yarl import URL

from core.app.bootstrap import Services
from core.app.server import create_app
from core.config import Settings
from core.conversation import Session
from core.phone import Phone
from core.region import RegionCode
from tests.support.at_voice import AtCaller
from tests.support.phone import database_rows
from tests.support.providers.africastalking import FakeAfricasTalking, deliveries

FIXTURES = Path(__file__).parent / "fixtures" / "voice"
VOICE = "/channels/africastalking/voice"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SESSION_ID = "ATVId_8c3e1f5a7b9d4e2c6a0f1b3d5e7c9a2b"
NGOZI = Phone("+2348030000001")
INDOMIE = "NDL-INDO-CHK"
TOKEN = "at-callback-9f2c71"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_PRESS = re.compile(r"Press ([\d ]+) for (.*?)\.(?= Press |$)")

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


def stored(name: str) -> bytes:
    return (FIXTURES / f"{name}.form").read_bytes()


def voice_body(digits: str | None = None, *, session_id: str = SESSION_ID) -> bytes:
    """A voice callback laid out as the stored fixtures are (documented field order)."""
    fields = [
        ("isActive", "1"),
        ("sessionId", session_id),
        ("direction", "Inbound"),
        ("callerNumber", NGOZI.e164),
        ("destinationNumber", "+2342017001234"),
    ]
    if digits is not None:
        fields.append(("dtmfDigits", digits))
    return urlencode(fields).encode()


@dataclass
class Prompt:
    """One answer of ours, parsed as Africa's Talking parses it."""

    xml: str
    root: ET.Element

    @property
    def say(self) -> str:
        says = self.root.findall(".//Say")
        assert len(says) == 1, self.xml
        return says[0].text or ""

    @property
    def get_digits(self) -> ET.Element | None:
        return self.root.find("GetDigits")

    @property
    def ends_call(self) -> bool:
        return self.get_digits is None

    @property
    def choices(self) -> dict[str, str]:
        """label -> the keys to press, from "Press N for Label." sentences."""
        return {label: key.replace(" ", "") for key, label in _PRESS.findall(self.say)}


async def prompt_of(response: ClientResponse) -> Prompt:
    text = await response.text()
    assert response.status == 200, text
    assert response.content_type == "application/xml"
    assert text.startswith(DECLARATION)
    root = ET.fromstring(text.removeprefix(DECLARATION))
    assert root.tag == "Response"
    return Prompt(text, root)


@dataclass
class Caller:
    """Ngozi on the phone: dials the number, then presses keys as each prompt asks."""

    client: Client
    url: str = VOICE
    prompts: list[Prompt] = field(default_factory=list)

    async def dial(self) -> Prompt:
        return await self._post(self.url, voice_body())

    async def press(self, digits: str) -> Prompt:
        getter = self.prompts[-1].get_digits
        assert getter is not None, "the call has ended"
        return await self._post(_relative(getter.attrib["callbackUrl"]), voice_body(digits))

    async def choose(self, label_part: str) -> Prompt:
        choices = self.prompts[-1].choices
        keys = [key for label, key in choices.items() if label_part in label]
        assert keys, f"no choice {label_part!r} in: {self.prompts[-1].say}"
        return await self.press(keys[0])

    async def repeat_last(self, digits: str) -> Prompt:
        """Africa's Talking retrying the callback that produced the last prompt."""
        getter = self.prompts[-2].get_digits
        assert getter is not None
        return await self._post(_relative(getter.attrib["callbackUrl"]), voice_body(digits))

    async def _post(self, url: str, body: bytes) -> Prompt:
        prompt = await prompt_of(await self.client.post(url, data=body, headers=FORM))
        self.prompts.append(prompt)
        return prompt


def _relative(url: str) -> str:
    return str(URL(url).relative())


async def session_of(services: Services) -> Session | None:
    return await services.store.load(f"at-voice:{SESSION_ID}")


def test_generated_bodies_match_the_stored_fixtures_byte_for_byte() -> None:
    assert voice_body() == stored("call_start")
    assert voice_body("1") == stored("menu_choice")


async def test_call_start_is_answered_with_the_main_menu_as_get_digits(
    gateway: Client, services: Services
) -> None:
    response = await gateway.post(VOICE, data=stored("call_start"), headers=FORM)

    prompt = await prompt_of(response)
    getter = prompt.get_digits
    assert getter is not None
    assert getter.attrib == {
        "timeout": "30",
        "finishOnKey": "#",
        "numDigits": "1",
        "callbackUrl": str(gateway.make_url(f"{VOICE}?step=1")),
    }
    assert [child.tag for child in getter] == ["Say"]
    assert prompt.say == (
        "Welcome to OmniRoute. Press 1 for Shop. Press 2 for Cart (0). Press 3 for My orders. "
        "Press 4 for Language. Press 5 for Help."
    )
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"


async def test_a_french_caller_hears_her_prompts_in_french(
    gateway: Client, services: Services
) -> None:
    await services.customers.set_locale(NGOZI, "fr")

    caller = Caller(gateway)
    prompt = await caller.dial()

    assert prompt.say.startswith("Bienvenue chez OmniRoute. Tapez 1 pour Acheter.")
    for key in ("1", "1", "1", "3", "3", "1", "1"):  # Acheter > Nouilles > Indomie, 3, …
        assert not (await caller.press(key)).ends_call
    done = await caller.press("1")  # Confirmer
    [order] = await services.orders.recent(NGOZI)
    assert done.say.startswith(f"Commande {order.reference} passée. Total NGN 26,993.25")


@pytest.mark.parametrize("locale", ["pcm", "ha", "yo", "ig"])
async def test_a_caller_whose_language_has_no_voice_hears_english_prompts(
    gateway: Client, services: Services, locale: str
) -> None:
    """Africa's Talking reads no Pidgin, Hausa, Yoruba or Igbo: her words spelled out by an
    English voice were no prompt. She hears English; her language stays hers elsewhere."""
    await services.customers.set_locale(NGOZI, locale)

    prompt = await Caller(gateway).dial()

    assert prompt.say.startswith("Welcome to OmniRoute. Press 1 for Shop. Press 2 for Cart (0).")
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.locale == locale


async def test_whole_order_by_dtmf_ends_the_call_with_the_order_reference(
    gateway: Client, services: Services
) -> None:
    caller = Caller(gateway)
    await caller.dial()
    await caller.choose("Shop")
    noodles = await caller.choose("Noodles")
    assert noodles.choices["Indomie Chicken 40x70g NGN 9,300"] == "1"
    quantity = await caller.choose("Indomie Chicken")
    assert "Enter quantity" in quantity.say
    added = await caller.press("3")
    assert added.say.startswith("Added 3 x Indomie Chicken 40x70g.")
    quote = await caller.choose("Checkout")
    assert "Total NGN 26,993.25" in quote.say
    await caller.choose("Choose payment")
    await caller.choose("Pay on delivery")

    done = await caller.choose("Confirm")

    assert done.ends_call
    assert [child.tag for child in done.root] == ["Say"]
    [order] = await services.orders.recent(NGOZI)
    assert done.say.startswith(f"Order {order.reference} placed. Total NGN 26,993.25")
    # Each GetDigits sent the next callback to a new step of the same call.
    urls = [p.get_digits.attrib["callbackUrl"] for p in caller.prompts if p.get_digits is not None]
    assert [URL(u).query["step"] for u in urls] == [str(n) for n in range(1, len(urls) + 1)]
    assert await session_of(services) is None


async def test_silence_repeats_the_screen_instead_of_hanging_up(
    gateway: Client, services: Services
) -> None:
    """A GetDigits that gets no keys moves on to the next action without a callback, and the
    call hangs up after the last action: so each one is followed by a Redirect to the step the
    keys would have gone to, which Africa's Talking posts without dtmfDigits."""
    caller = Caller(gateway)
    menu = await caller.dial()
    getter = menu.get_digits
    assert getter is not None
    assert [child.tag for child in menu.root] == ["GetDigits", "Redirect"]
    redirect = menu.root.find("Redirect")
    assert redirect is not None
    assert redirect.text
    # The step the keys would have gone to, counting the silences in a row.
    assert URL(redirect.text) == URL(getter.attrib["callbackUrl"]).update_query(silent="1")

    # The caller says nothing for 20 s: Africa's Talking follows the Redirect.
    response = await gateway.post(_relative(redirect.text), data=voice_body(), headers=FORM)

    again = await prompt_of(response)
    assert again.say.startswith("We did not hear a key. Welcome to OmniRoute.")
    assert again.get_digits is not None
    assert URL(again.get_digits.attrib["callbackUrl"]).query["step"] == "2"
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"


async def test_silence_is_said_in_swahili_to_a_swahili_caller(
    gateway: Client, services: Services
) -> None:
    """What the caller notices of a silence is that no key was heard (not a wrong one), in her
    language: Africa's Talking reads Swahili."""
    caller = AtCaller(gateway, "+254711000001", "ATVId_juma_silent")
    welcome = await caller.dial()

    again = await caller.stay_silent()

    assert again.say.startswith("Hatukusikia kitufe chochote. ")
    assert again.say.removeprefix("Hatukusikia kitufe chochote. ") == welcome.say
    assert not again.ends_call


async def test_three_silences_in_a_row_end_the_call_with_a_goodbye(
    gateway: Client, services: Services
) -> None:
    caller = AtCaller(gateway, NGOZI.e164, SESSION_ID)
    await caller.dial()
    await caller.choose("Shop")

    first = await caller.stay_silent()
    second = await caller.stay_silent()
    third = await caller.stay_silent()

    assert first.say.startswith("We did not hear a key. Choose a category.")
    assert second.say == first.say
    assert third.say == "We did not hear anything. Goodbye."
    assert [child.tag for child in third.root] == ["Say"]  # the call hangs up after it
    # Africa's Talking retrying the third silence hears the same goodbye.
    redirect = second.root.find("Redirect")
    assert redirect is not None
    assert redirect.text
    retried = await prompt_of(
        await gateway.post(_relative(redirect.text), data=voice_body(), headers=FORM)
    )
    assert retried.xml == third.xml
    session = await session_of(services)
    assert session is not None
    assert session.state == "categories"


async def test_a_key_between_silences_starts_the_count_again(
    gateway: Client, services: Services
) -> None:
    caller = AtCaller(gateway, NGOZI.e164, SESSION_ID)
    await caller.dial()
    await caller.stay_silent()
    await caller.stay_silent()
    await caller.choose("Shop")

    await caller.stay_silent()
    still = await caller.stay_silent()

    assert still.say.startswith("We did not hear a key. Choose a category.")
    assert not still.ends_call


async def test_retried_callback_gets_the_same_xml_and_adds_to_the_cart_once(
    gateway: Client, services: Services
) -> None:
    caller = Caller(gateway)
    await caller.dial()
    await caller.choose("Shop")
    await caller.choose("Noodles")
    await caller.choose("Indomie Chicken")
    added = await caller.press("3")

    again = await caller.repeat_last("3")

    assert again.xml == added.xml
    cart = await services.orders.cart(NGOZI, RegionCode.LAGOS)
    assert cart.quantity_of(INDOMIE) == 3


async def test_call_ended_notification_is_an_empty_200_and_changes_nothing(
    gateway: Client, services: Services
) -> None:
    caller = Caller(gateway)
    await caller.dial()
    getter = (await caller.choose("Shop")).get_digits
    assert getter is not None
    rows_before = await database_rows(services.db)
    session_before = await session_of(services)

    # The last callback of the call goes to the URL the last GetDigits named.
    response = await gateway.post(
        _relative(getter.attrib["callbackUrl"]), data=stored("call_ended"), headers=FORM
    )

    assert response.status == 200
    assert await response.read() == b""
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) == session_before
    assert await deliveries(services) == []


WITHHELD = (
    "Sorry, OmniRoute needs to see your phone number, so please call again from a phone that "
    "shows it."
)


def withheld_body(caller: str) -> bytes:
    return voice_body().replace(b"callerNumber=%2B2348030000001", f"callerNumber={caller}".encode())


@pytest.mark.parametrize(
    "body",
    [stored("missing_caller"), withheld_body("anonymous"), withheld_body("Unknown")],
    ids=["missing", "anonymous", "Unknown"],
)
async def test_withheld_caller_is_told_to_call_from_a_number_shown_and_hung_up_on(
    gateway: Client, services: Services, body: bytes
) -> None:
    rows_before = await database_rows(services.db)

    prompt = await prompt_of(await gateway.post(VOICE, data=body, headers=FORM))

    assert prompt.say == WITHHELD
    assert [child.tag for child in prompt.root] == ["Say"]  # the call hangs up after it
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_withheld_caller_in_a_callback_malformed_otherwise_is_still_a_400(
    gateway: Client, services: Services
) -> None:
    body = stored("missing_caller").replace(b"isActive=1", b"isActive=yes")

    response = await gateway.post(VOICE, data=body, headers=FORM)

    assert response.status == 400


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("bad_is_active", "Bad request: isActive: Input should be '0' or '1'\n"),
        ("bad_digits", "Bad request: dtmfDigits: String should match pattern '^[0-9*#]*$'\n"),
    ],
)
async def test_malformed_voice_callback_is_a_400_and_changes_nothing(
    gateway: Client, services: Services, fixture: str, reason: str
) -> None:
    rows_before = await database_rows(services.db)

    response = await gateway.post(VOICE, data=stored(fixture), headers=FORM)

    assert response.status == 400
    assert await response.text() == reason
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


@pytest.mark.parametrize("step", ["-1", "x", "99999999"])
async def test_callback_with_a_step_we_never_issued_is_a_400(
    gateway: Client, services: Services, step: str
) -> None:
    response = await gateway.post(f"{VOICE}?step={step}", data=stored("menu_choice"), headers=FORM)

    assert response.status == 400
    assert await response.text() == "Bad request: step must be a whole number\n"
    assert await session_of(services) is None


@pytest.mark.parametrize("silent", ["x", "4"])
async def test_callback_with_a_silence_count_we_never_issued_is_a_400(
    gateway: Client, services: Services, silent: str
) -> None:
    response = await gateway.post(
        f"{VOICE}?step=1&silent={silent}", data=voice_body(), headers=FORM
    )

    assert response.status == 400
    assert await response.text() == "Bad request: silent must be a whole number up to 3\n"
    assert await session_of(services) is None


@pytest.fixture
async def behind_proxy(database_url: str, services: Services) -> AsyncIterator[Client]:
    """The gateway with OMNIROUTE_PUBLIC_URL and a callback token, over the same services."""
    settings = Settings(
        env="test",
        database_url=database_url,
        public_url="https://gateway.example.com/",
        africastalking_callback_token=SecretStr(TOKEN),
        _env_file=None,
    )
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_callback_url_uses_the_public_url_and_keeps_the_token(behind_proxy: Client) -> None:
    response = await behind_proxy.post(
        f"{VOICE}?token={TOKEN}", data=stored("call_start"), headers=FORM
    )

    getter = (await prompt_of(response)).get_digits
    assert getter is not None
    assert getter.attrib["callbackUrl"] == (
        f"https://gateway.example.com/channels/africastalking/voice?token={TOKEN}&step=1"
    )
    # Africa's Talking's next callback comes back through that URL and is let in.
    step = await behind_proxy.post(
        _relative(getter.attrib["callbackUrl"]), data=stored("menu_choice"), headers=FORM
    )
    assert (await prompt_of(step)).say.startswith("Choose a category. ")
