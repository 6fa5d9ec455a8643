"""The intent pipeline: retries apply once, the newest input survives '*', failures end politely."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.clock import SteppedClock
from core.conversation import Session
from core.i18n import Translator
from core.intents import Intent, IntentKind
from core.messages import (
    USSD_CAPABILITIES,
    VOICE_CAPABILITIES,
    ChannelKind,
    InboundMessage,
    Option,
    Reply,
)
from core.phone import Phone
from core.pipeline import Pipeline, newest_input
from sessions.memory import MemorySessionStore

SESSION_KEY = "at-ussd:ATUid_1"
SESSION_TTL = 180
MENU = Reply("Welcome", (Option("1", "Shop"), Option("2", "Cart")))


@pytest.mark.parametrize(
    ("transcript", "previous", "expected"),
    [
        ("1", "", "1"),
        ("", "", None),
        ("1*2", "1", "2"),
        ("1*1*1*3", "1*1*1", "3"),
        ("1*2*3*4", "1*2", "3*4"),  # the newest input itself contains '*'
        ("*", "", "*"),
        ("1*", "1", ""),  # an empty submission is an empty input, not a lost turn
        ("1*2", None, None),  # unknown previous
        ("1*3", "1*2", None),  # does not extend the previous
        ("12", "1", None),  # '1' is a prefix but not at an input boundary
        ("1*2", "1*2", None),  # nothing new
        ("1", "1*2", None),  # shorter than the previous
    ],
)
def test_newest_input_is_what_the_transcript_added(
    transcript: str, previous: str | None, expected: str | None
) -> None:
    assert newest_input(transcript, previous) == expected


class ScriptedDialog:
    """A stand-in for the shopping dialog: records each turn and answers with a fixed reply."""

    def __init__(self, reply: Reply = MENU, error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.calls: list[tuple[Session | None, Intent]] = []

    async def step(
        self, msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        self.calls.append((session, intent))
        if self.error is not None:
            raise self.error
        current = session or Session("main", msg.locale_hint or "en")
        return current.evolve(vars={"turns": len(self.calls)}), self.reply


def ussd(
    transcript: str, *, locale_hint: str | None = None, phone: str = "+2348030000001"
) -> InboundMessage:
    return InboundMessage(
        kind=ChannelKind.USSD,
        provider="africastalking",
        phone=Phone.parse(phone),
        session_key=SESSION_KEY,
        text=transcript,
        capabilities=USSD_CAPABILITIES,
        idempotency_key=f"at-ussd:ATUid_1:{transcript}",
        transcript=transcript,
        locale_hint=locale_hint,
    )


@pytest.fixture
def store(clock: SteppedClock) -> MemorySessionStore:
    return MemorySessionStore(clock)


def pipeline(store: MemorySessionStore, dialog: ScriptedDialog, translator: Translator) -> Pipeline:
    return Pipeline(
        store, dialog, translator, session_ttl_seconds=SESSION_TTL, reply_ttl_seconds=600
    )


async def test_first_dial_starts_a_conversation_and_keeps_the_session(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()

    reply = await pipeline(store, dialog, translator).handle(ussd(""))

    assert reply == MENU
    assert dialog.calls == [(None, Intent(IntentKind.START))]
    saved = await store.load(SESSION_KEY)
    assert saved is not None
    assert saved.transcript == ""
    assert saved.version == 1


async def test_next_turn_gets_the_saved_session_and_only_the_newest_input(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle

    await handle(ussd(""))
    await handle(ussd("1"))
    await handle(ussd("1*2"))

    session, intent = dialog.calls[-1]
    assert session is not None
    assert session.vars == {"turns": 2}
    assert intent == Intent(IntentKind.INPUT, "2")
    saved = await store.load(SESSION_KEY)
    assert saved is not None
    assert saved.transcript == "1*2"
    assert saved.version == 3


async def test_an_input_containing_a_star_reaches_the_dialog_whole(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    for transcript in ("", "1", "1*2"):
        await handle(ussd(transcript))

    await handle(ussd("1*2*3*4"))

    assert dialog.calls[-1][1] == Intent(IntentKind.INPUT, "3*4")


@pytest.mark.parametrize(
    ("typed", "intent"),
    [
        ("00", Intent(IntentKind.HOME, "00")),
        ("menu", Intent(IntentKind.HOME, "menu")),
        ("Back", Intent(IntentKind.BACK, "Back")),
        (" 3 ", Intent(IntentKind.INPUT, "3")),
    ],
)
async def test_typed_navigation_words_are_resolved_before_the_dialog_sees_them(
    store: MemorySessionStore, translator: Translator, typed: str, intent: Intent
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))

    await handle(ussd(typed))

    assert dialog.calls[-1][1] == intent


async def test_retried_request_returns_the_stored_reply_and_applies_once(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))

    first = await handle(ussd("1"))
    dialog.reply = Reply("a different screen")
    retried = await handle(ussd("1"))

    assert retried == first == MENU
    assert len(dialog.calls) == 2
    saved = await store.load(SESSION_KEY)
    assert saved is not None
    assert saved.version == 2


async def test_end_reply_deletes_the_session(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))
    dialog.reply = Reply("Order W62ACJ placed.", end=True)

    reply = await handle(ussd("1"))

    assert reply.end
    assert await store.load(SESSION_KEY) is None


async def test_retried_final_request_returns_the_end_reply_without_a_second_step(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))
    dialog.reply = Reply("Order W62ACJ placed.", end=True)
    await handle(ussd("1"))

    retried = await handle(ussd("1"))

    assert retried == Reply("Order W62ACJ placed.", end=True)
    assert len(dialog.calls) == 2


@pytest.mark.parametrize(("locale_hint", "locale"), [(None, "en"), ("sw", "sw")])
async def test_a_failing_dialog_yields_a_polite_end_reply(
    store: MemorySessionStore, translator: Translator, locale_hint: str | None, locale: str
) -> None:
    dialog = ScriptedDialog(error=RuntimeError("database is down"))

    reply = await pipeline(store, dialog, translator).handle(ussd("", locale_hint=locale_hint))

    assert reply == Reply(translator(locale, "error.unavailable"), end=True, locale=locale)
    assert await store.load(SESSION_KEY) is None


async def test_a_failure_on_a_kenyan_phone_is_regretted_in_swahili(
    store: MemorySessionStore, translator: Translator
) -> None:
    """USSD carries no language: Juma's phone's market speaks Swahili, so does the apology."""
    dialog = ScriptedDialog(error=RuntimeError("database is down"))

    reply = await pipeline(store, dialog, translator).handle(ussd("", phone="+254711000001"))

    assert reply == Reply(translator("sw", "error.unavailable"), end=True, locale="sw")


async def test_a_failure_on_a_voice_line_without_swahili_is_regretted_in_english(
    store: MemorySessionStore, translator: Translator
) -> None:
    """Twilio reads no Swahili: Juma's apology in Swahili would be read by the English voice."""
    dialog = ScriptedDialog(error=RuntimeError("database is down"))
    english_and_french = replace(VOICE_CAPABILITIES, languages=("en", "fr"))
    call = replace(
        ussd("", phone="+254711000001"), kind=ChannelKind.VOICE, capabilities=english_and_french
    )

    reply = await pipeline(store, dialog, translator).handle(call)

    assert reply == Reply(translator("en", "error.unavailable"), end=True, locale="en")


async def test_a_transcript_that_does_not_extend_the_session_starts_over(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))
    await handle(ussd("1"))

    await handle(ussd("2*5"))

    assert dialog.calls[-1] == (None, Intent(IntentKind.START))
    saved = await store.load(SESSION_KEY)
    assert saved is not None
    assert saved.transcript == "2*5"


async def test_an_expired_session_starts_over(
    store: MemorySessionStore, translator: Translator, clock: SteppedClock
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))

    clock.advance(SESSION_TTL)
    await handle(ussd("1"))

    assert dialog.calls[-1] == (None, Intent(IntentKind.START))


async def test_a_turn_that_loses_the_compare_and_set_is_taken_again(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    await handle(ussd(""))
    original_step = dialog.step

    async def step_racing_another_turn(
        msg: InboundMessage, session: Session | None, intent: Intent
    ) -> tuple[Session, Reply]:
        if len(dialog.calls) == 1:
            assert session is not None
            await store.save(SESSION_KEY, session.evolve(vars={"other": True}), SESSION_TTL)
        return await original_step(msg, session, intent)

    dialog.step = step_racing_another_turn  # type: ignore[method-assign]

    reply = await handle(ussd("1"))

    assert reply == MENU
    assert len(dialog.calls) == 3
    retried_session = dialog.calls[-1][0]
    assert retried_session is not None
    assert retried_session.vars == {"other": True}
    saved = await store.load(SESSION_KEY)
    assert saved is not None
    assert saved.version == 3
    assert saved.transcript == "1"


async def test_a_channel_without_transcript_passes_its_text(
    store: MemorySessionStore, translator: Translator
) -> None:
    dialog = ScriptedDialog()
    handle = pipeline(store, dialog, translator).handle
    sms = InboundMessage(
        kind=ChannelKind.SMS,
        provider="africastalking",
        phone=Phone.parse("+2348030000001"),
        session_key="at-sms:+2348030000001",
        text="2",
        capabilities=USSD_CAPABILITIES,
        idempotency_key="at-sms:1",
    )
    await handle(sms)

    await handle(replace(sms, text="3*4", idempotency_key="at-sms:2"))

    assert dialog.calls[-1][1] == Intent(IntentKind.INPUT, "3*4")


def test_a_stored_code_prompt_keeps_its_length_so_a_retried_call_gets_the_same_gather() -> None:
    """A provider's retry is answered from the stored reply: a delivery-code prompt must still
    say its answer has 4 digits, or the retried call waits for '#' again."""
    prompt = Reply("Enter the code.", (Option("00", "Back"),), expects_input=True, input_length=4)

    assert Reply.from_dict(prompt.to_dict()) == prompt
    assert Reply.from_dict(MENU.to_dict()).input_length is None
