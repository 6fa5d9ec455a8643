"""Twilio Voice webhooks: the incoming call and each `<Gather>` answer, answered in TwiML.

Stored bodies in fixtures/voice/*.form (see fixtures/SOURCES.md). Each answer is posted to the
action URL of the TwiML before it, as Twilio does, signed for that exact URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import Services
from core.app.server import create_app
from core.conversation import Session
from core.phone import Phone
from core.region import RegionCode
from engines.customers.tables import customers
from tests.contract.channels.twilio.bodies import stored
from tests.support.phone import database_rows
from tests.support.providers.twilio import (
    VOICE_PATH,
    TwilioCaller,
    TwilioWebhooks,
    VoiceTurn,
    sid,
    signature_for,
    twilio_settings,
    twiml_of,
    voice_body,
    voice_turn,
)

NGOZI = Phone("+2348030000001")
CALL_SID = sid("CA", "fixture-call-1")
WELCOME = (
    "Welcome to OmniRoute. Press 1 for Shop. Press 2 for Cart (0). Press 3 for My orders. "
    "Press 4 for Language. Press 5 for Help."
)

WITHHELD = (
    "Sorry, OmniRoute needs to see your phone number, so please call again from a phone that "
    "shows it."
)

Client = TestClient[web.Request, web.Application]


async def session_of(services: Services, call_sid: str = CALL_SID) -> Session | None:
    return await services.store.load(f"twilio-voice:{call_sid}")


async def turn_of(twilio: TwilioWebhooks, path_qs: str, body: bytes) -> VoiceTurn:
    return voice_turn(await twiml_of(await twilio.post(path_qs, body)))


def gather(twilio: TwilioWebhooks, turn: int, **extra: str) -> dict[str, str]:
    """The `<Gather>` attributes of the answer to request `turn - 1`."""
    return {
        "action": twilio.url(f"{VOICE_PATH}?turn={turn}"),
        "input": "dtmf speech",
        "language": "en-GB",
        "method": "POST",
        "timeout": "30",
        "speechTimeout": "auto",
        **extra,
    }


async def test_incoming_call_is_greeted_with_the_main_menu_gathered_by_key_or_speech(
    twilio: TwilioWebhooks, services: Services
) -> None:
    turn = await turn_of(twilio, VOICE_PATH, stored("voice", "incoming_call"))

    assert turn.say == WELCOME
    assert turn.language == "en-GB"
    # Every key is one digit: the gather ends on the first key pressed.
    assert turn.gather == gather(twilio, 1, numDigits="1")
    # Silence falls through to a redirect to the same action, which repeats the menu; it counts
    # the silences in a row.
    assert turn.redirect == twilio.url(f"{VOICE_PATH}?turn=1&silent=1")
    assert not turn.hangup
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"


@dataclass(frozen=True)
class IncomingCase:
    fixture: str
    status: int
    starts: str  # what is said first (or the start of a 4xx body)
    path_qs: str = VOICE_PATH
    after: tuple[str, ...] = ()
    session_state: str | None = None


CASES = [
    IncomingCase(
        "gather_digits",
        200,
        "Choose a category. Press 1 for Noodles & Pasta.",
        path_qs=f"{VOICE_PATH}?turn=1",
        after=("incoming_call",),
        session_state="categories",
    ),
    # Speech recognition writes "1." for a spoken "one"; the full stop is not part of the answer.
    IncomingCase(
        "gather_speech",
        200,
        "Choose a category. Press 1 for Noodles & Pasta.",
        path_qs=f"{VOICE_PATH}?turn=1",
        after=("incoming_call",),
        session_state="categories",
    ),
    IncomingCase("missing_call_sid", 400, "Bad request: CallSid is required"),
    # A withheld number cannot be a customer (OmniRoute knows its customers by phone): the
    # caller is told why and hung up on, not played Twilio's "an application error".
    IncomingCase("anonymous_caller", 200, WITHHELD),
    IncomingCase(
        "incoming_call",
        400,
        "Bad request: turn must be a whole number",
        path_qs=f"{VOICE_PATH}?turn=x",
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.fixture}{c.path_qs[len(VOICE_PATH) :]}" for c in CASES]
)
async def test_twilio_voice_body(
    twilio: TwilioWebhooks, services: Services, case: IncomingCase
) -> None:
    for earlier in case.after:
        await turn_of(twilio, VOICE_PATH, stored("voice", earlier))
    rows_before = await database_rows(services.db)

    response = await twilio.post(case.path_qs, stored("voice", case.fixture))

    if case.status == 200:
        turn = voice_turn(await twiml_of(response))
        assert turn.say.startswith(case.starts), turn.say
    else:
        text = await response.text()
        assert response.status == case.status, text
        assert text.startswith(case.starts), text
    assert await database_rows(services.db) == rows_before
    session = await session_of(services)
    assert (session and session.state) == case.session_state


# What Twilio has put in `From` for a withheld caller ID: "anonymous" since May 2023, before
# that the keypad spelling of ANONYMOUS, RESTRICTED, BLOCKED or UNAVAILABLE.
@pytest.mark.parametrize(
    "caller", ["anonymous", "Anonymous", "+266696687", "Restricted", "+86282452253", "Unknown"]
)
async def test_withheld_caller_is_told_to_call_from_a_number_shown_and_hung_up_on(
    twilio: TwilioWebhooks, services: Services, caller: str
) -> None:
    rows_before = await database_rows(services.db)

    response = await twilio.post(VOICE_PATH, voice_body(phone=caller, call_sid=CALL_SID))

    assert response.status == 200
    turn = voice_turn(await twiml_of(response))
    assert turn.say == WITHHELD
    assert turn.language == "en-GB"
    assert turn.hangup
    assert turn.gather is None
    assert await database_rows(services.db) == rows_before
    assert await session_of(services) is None


async def test_withheld_caller_in_a_body_malformed_otherwise_is_still_a_400(
    twilio: TwilioWebhooks, services: Services
) -> None:
    body = voice_body(phone="anonymous", call_sid="")

    response = await twilio.post(VOICE_PATH, body)

    assert response.status == 400
    assert (await response.text()).startswith("Bad request: CallSid:")


async def test_retried_answer_is_spoken_again_and_applied_once(
    twilio: TwilioWebhooks, services: Services
) -> None:
    await turn_of(twilio, VOICE_PATH, stored("voice", "incoming_call"))

    first = await turn_of(twilio, f"{VOICE_PATH}?turn=1", stored("voice", "gather_digits"))
    retry = await turn_of(twilio, f"{VOICE_PATH}?turn=1", stored("voice", "gather_digits"))

    assert retry == first
    # Applied twice, the second "1" would have opened Noodles & Pasta.
    session = await session_of(services)
    assert session is not None
    assert session.state == "categories"
    # The same key on the next screen is a new answer.
    products = await turn_of(twilio, f"{VOICE_PATH}?turn=2", stored("voice", "gather_digits"))
    assert products.say.startswith("Noodles & Pasta. Press 1 for Indomie Chicken 40x70g")


async def test_retried_incoming_call_is_greeted_once(
    twilio: TwilioWebhooks, services: Services
) -> None:
    first = await turn_of(twilio, VOICE_PATH, stored("voice", "incoming_call"))
    await turn_of(twilio, f"{VOICE_PATH}?turn=1", stored("voice", "gather_digits"))

    again = await turn_of(twilio, VOICE_PATH, stored("voice", "incoming_call"))

    assert again == first
    session = await session_of(services)
    assert session is not None
    assert session.state == "categories"


async def test_silence_repeats_the_screen_with_a_reason(
    twilio: TwilioWebhooks, services: Services
) -> None:
    caller = TwilioCaller(twilio, NGOZI.e164)
    await caller.call()
    await caller.choose("Shop")

    repeated = await caller.stay_silent()

    assert repeated.say.startswith("We did not hear a key. Choose a category. Press 1 for Noodles")
    assert repeated.gather == gather(twilio, 3, numDigits="1")
    session = await session_of(services, caller.call_sid)
    assert session is not None
    assert session.state == "categories"


async def test_three_silences_in_a_row_end_the_call_with_a_goodbye(
    twilio: TwilioWebhooks, services: Services
) -> None:
    caller = TwilioCaller(twilio, NGOZI.e164)
    await caller.call()
    await caller.choose("Shop")

    first = await caller.stay_silent()
    second = await caller.stay_silent()
    third = await caller.stay_silent()

    assert first.say.startswith("We did not hear a key. Choose a category.")
    assert second.say == first.say
    assert third.say == "We did not hear anything. Goodbye."
    assert third.hangup
    assert third.gather is None
    # Twilio retrying the third silence hears the same goodbye.
    assert await caller.retry() == third
    session = await session_of(services, caller.call_sid)
    assert session is not None
    assert session.state == "categories"


async def test_a_silent_caller_is_waited_for_about_two_minutes_before_the_goodbye(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio's <Gather> waits 5 s by default: three silences hung up on a driver waiting at a
    door for the customer's code within a minute. Each prompt now waits 30 s for a key."""
    caller = TwilioCaller(twilio, NGOZI.e164)
    turns = [await caller.call()]
    while not turns[-1].hangup:
        turns.append(await caller.stay_silent())

    waits = [int(turn.gather["timeout"]) for turn in turns if turn.gather is not None]
    assert len(waits) == 3
    assert 90 <= sum(waits) <= 120  # plus the prompts read out: about two minutes
    assert turns[0].gather is not None
    assert turns[0].gather["speechTimeout"] == "auto"  # a spoken answer is not kept waiting


async def test_a_key_between_silences_starts_the_count_again(
    twilio: TwilioWebhooks, services: Services
) -> None:
    caller = TwilioCaller(twilio, NGOZI.e164)
    await caller.call()
    await caller.stay_silent()
    await caller.stay_silent()
    await caller.choose("Shop")

    await caller.stay_silent()
    still = await caller.stay_silent()

    assert still.say.startswith("We did not hear a key. Choose a category.")
    assert not still.hangup
    assert still.gather is not None


# What Twilio's <Say> reference documents: its own example voice, Google.en-GB-Standard-A, in
# British English. Twilio lists no Swahili text-to-speech voice (Amazon Polly has none).
DOCUMENTED_SAY = [("en-GB", "Google.en-GB-Standard-A")]


async def test_swahili_caller_hears_the_goodbye_in_a_voice_twilio_has_after_three_silences(
    twilio: TwilioWebhooks, services: Services
) -> None:
    caller = TwilioCaller(twilio, "+254711000001")
    await caller.call()
    for _ in range(2):
        await caller.stay_silent()

    goodbye = await caller.stay_silent()

    assert goodbye.say == "We did not hear anything. Goodbye."
    assert [(goodbye.language, goodbye.voice)] == DOCUMENTED_SAY
    assert goodbye.hangup


async def test_quantity_is_gathered_until_hash_or_timeout_not_cut_at_two_digits(
    twilio: TwilioWebhooks, services: Services
) -> None:
    caller = TwilioCaller(twilio, NGOZI.e164)
    await caller.call()
    await caller.choose("Shop")
    await caller.choose("Noodles")

    prompt = await caller.choose("Indomie Chicken")

    assert "Enter quantity. Then press hash. Press 0 0 then hash for Back." in prompt.say
    assert prompt.gather == gather(twilio, 4)  # no numDigits: 120 cartons is three digits
    added = await caller.press("120")
    assert added.say.startswith("Added 120 x Indomie Chicken 40x70g.")
    cart = await services.orders.cart(NGOZI, RegionCode.LAGOS)
    assert cart.quantity_of("NDL-INDO-CHK") == 120


async def test_swahili_caller_is_read_english_prompts_by_a_documented_voice(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """<Say language="sw-KE"> named no voice Twilio has, so Juma heard nothing of the menu:
    on Twilio's line he hears it in English, and keeps Swahili everywhere else."""
    juma = Phone("+254711000001")
    caller = TwilioCaller(twilio, juma.e164)

    turn = await caller.call()

    assert [(turn.language, turn.voice)] == DOCUMENTED_SAY
    assert turn.gather is not None
    assert turn.gather["language"] == "en-GB"
    assert turn.say.startswith("Welcome to OmniRoute. Press 1 for Shop.")
    language = await caller.choose("Language")
    swahili = await caller.choose("Kiswahili")
    assert [(swahili.language, swahili.voice)] == DOCUMENTED_SAY
    assert "Press 1 for Shop" in swahili.say
    customer = await services.customers.get(juma)
    assert customer is not None
    assert customer.locale == "sw"  # chosen for good: SMS, USSD and WhatsApp speak it
    assert "Press" in language.say


async def test_french_caller_hears_french_prompts_in_a_documented_french_voice(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Twilio reads French (Google.fr-FR-Standard-A): a retailer who chose French heard
    English on this line only; now she hears her menu in French, and is heard in French."""
    await services.customers.set_locale(NGOZI, "fr")
    caller = TwilioCaller(twilio, NGOZI.e164)

    turn = await caller.call()

    assert [(turn.language, turn.voice)] == [("fr-FR", "Google.fr-FR-Standard-A")]
    assert turn.gather is not None
    assert turn.gather["language"] == "fr-FR"
    assert turn.say.startswith("Bienvenue chez OmniRoute. Tapez 1 pour Acheter.")


@pytest.mark.parametrize("locale", ["pcm", "ha", "yo", "ig"])
async def test_a_caller_whose_language_has_no_twilio_voice_hears_english(
    twilio: TwilioWebhooks, services: Services, locale: str
) -> None:
    """Twilio documents no Pidgin, Hausa, Yoruba or Igbo voice: English prompts, by a voice it
    has, and her language kept for SMS, USSD and WhatsApp."""
    await services.customers.set_locale(NGOZI, locale)

    turn = await TwilioCaller(twilio, NGOZI.e164).call()

    assert [(turn.language, turn.voice)] == DOCUMENTED_SAY
    assert turn.say == WELCOME
    customer = await services.customers.get(NGOZI)
    assert customer is not None
    assert customer.locale == locale


async def test_a_caller_from_a_country_not_served_is_told_so_in_a_language_the_line_speaks(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """A number recorded in Swahili calling from abroad: the closing line was Swahili read by
    the English voice."""
    abroad = "+12025550123"
    async with services.db.transaction() as session:
        await session.execute(
            customers.insert().values(
                phone=abroad, region="nairobi", locale="sw", created_at=services.clock.now()
            )
        )

    turn = await TwilioCaller(twilio, abroad).call()

    assert turn.say == "Sorry, OmniRoute is not available in your country yet."
    assert [(turn.language, turn.voice)] == DOCUMENTED_SAY
    assert turn.hangup


async def test_answer_without_a_valid_signature_is_403_and_changes_nothing(
    twilio: TwilioWebhooks, services: Services
) -> None:
    await turn_of(twilio, VOICE_PATH, stored("voice", "incoming_call"))
    rows_before = await database_rows(services.db)
    body = stored("voice", "gather_digits")

    for signature in (None, "", "bm90IGEgc2lnbmF0dXJl"):
        response = await twilio.post(f"{VOICE_PATH}?turn=1", body, signature=signature)
        assert response.status == 403
    # Signed for turn 2, posted as turn 1: the query is part of what Twilio signs.
    moved = signature_for(twilio.url(f"{VOICE_PATH}?turn=2"), body)
    response = await twilio.post(f"{VOICE_PATH}?turn=1", body, signature=moved)
    assert response.status == 403

    assert await database_rows(services.db) == rows_before
    session = await session_of(services)
    assert session is not None
    assert session.state == "main"


@pytest.fixture
async def behind_proxy(database_url: str, services: Services) -> AsyncIterator[Client]:
    settings = twilio_settings(database_url, public_url="https://omniroute.example.com")
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_behind_a_proxy_answers_go_to_the_public_url(
    behind_proxy: Client, services: Services
) -> None:
    public = TwilioWebhooks(behind_proxy, public_url="https://omniroute.example.com")
    caller = TwilioCaller(public, NGOZI.e164)

    turn = await caller.call()
    shop = await caller.choose("Shop")

    assert turn.action == "https://omniroute.example.com/channels/twilio/voice?turn=1"
    assert shop.action == "https://omniroute.example.com/channels/twilio/voice?turn=2"
    session: Any = await session_of(services, caller.call_sid)
    assert session.state == "categories"
