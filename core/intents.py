"""Intent resolution: what the user meant by their input, before any dialog sees it.

Menus answer with numbers; typed words for Back/Home come from each locale's keyword list;
in a text, a sentence the built-in matcher knows ("where is my order") reads as its keyword.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.i18n import DEFAULT_LOCALE, Translator
from core.sentences import MENU, read_sentence


class IntentKind(StrEnum):
    START = "start"
    BACK = "back"
    HOME = "home"
    INPUT = "input"
    COMMAND = "command"  # an SMS/WhatsApp keyword: ORDER, STATUS, BAL, HELP, STOP, START
    LATE = "late"  # a message that arrived after a newer one, or outside WhatsApp's window


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    text: str = ""
    # What was typed, for a keyword read as a command (`text` is then the command's name): a
    # prompt that takes any text (a promo code) reads it as the answer instead.
    typed: str | None = None
    # Read from a sentence by the matcher ("help me order 5 indomie"), not typed as a keyword: the
    # dialog may still read it as an order, or as the answer its screen awaits.
    sentence: bool = False

    def as_answer(self) -> Intent:
        """The same words read as typed input."""
        return Intent(IntentKind.INPUT, self.text if self.typed is None else self.typed)


class IntentMatcher(Protocol):
    """Free-text understanding behind the built-in steps (Rasa NLU): the intent a sentence asks
    for (one of `core.sentences.SENTENCE_INTENTS`), or None when it cannot say. Never raises:
    not knowing leaves the built-in answer."""

    async def match(self, text: str, locale: str, *, message_id: str) -> str | None: ...


HOME_KEYS = frozenset({"00"})
# Around a typed keyword, as people write one in a message: "Status?", "HALI.", "Msaada!"
KEYWORD_PUNCTUATION = ".!?,;:"
COMMANDS = ("order", "status", "balance", "help", "stop", "start")
# Understood even where any text is an answer (a promo code): opting out always works.
OPT_OUT = "stop"


def resolve_intent(
    text: str,
    locale: str,
    translate: Translator,
    *,
    also: Iterable[str | None] = (),
    sentences: bool = False,
) -> Intent:
    """`also`: other languages whose command keywords count (the market's, for a retailer who
    chose another); Back and Home are read in the user's language. `sentences`: a typed
    message, where a sentence the matcher knows counts as its keyword."""
    cleaned = text.strip()
    if cleaned in HOME_KEYS:
        return Intent(IntentKind.HOME, cleaned)
    word = keyword_of(cleaned)
    if word and word in _keywords(translate, locale, "keyword.home"):
        return Intent(IntentKind.HOME, cleaned)
    if word and word in _keywords(translate, locale, "keyword.back"):
        return Intent(IntentKind.BACK, cleaned)
    command = resolve_command(cleaned, locale, translate, also=also)
    if command is not None:
        return Intent(IntentKind.COMMAND, command, typed=cleaned)
    if sentences:
        meant = sentence_intent(cleaned, [locale, *(extra for extra in also if extra)])
        if meant is not None:
            return meant
    return Intent(IntentKind.INPUT, cleaned)


def sentence_intent(text: str, locales: Iterable[str]) -> Intent | None:
    """A sentence read as the keyword it means ("where is my order" as STATUS, "show me the
    menu" as MENU), the words kept for a prompt that takes any text; None when unknown."""
    meant = read_sentence(text, locales)
    if meant is None:
        return None
    if meant == MENU:
        return Intent(IntentKind.HOME, text, sentence=True)
    return Intent(IntentKind.COMMAND, meant, typed=text, sentence=True)


def resolve_command(
    text: str, locale: str, translate: Translator, *, also: Iterable[str | None] = ()
) -> str | None:
    """A keyword command in the user's language, in any of `also`, or in English (which every
    locale accepts)."""
    word = keyword_of(text)
    if not word or word.isdigit():
        return None
    locales = dict.fromkeys([locale, *(extra for extra in also if extra), DEFAULT_LOCALE])
    for command in COMMANDS:
        if any(word in _keywords(translate, each, f"keyword.{command}") for each in locales):
            return command
    return None


# Besides her own language and English, the languages whose Yes and No a retailer in a market
# types at a Yes/No screen whatever language she chose: Nigerian Pidgin ("Oya", "No o") in
# Nigeria.
YES_NO_SPOKEN: dict[str, tuple[str, ...]] = {"NG": ("pcm",)}


def yes_no_locales(locale: str, country: str) -> list[str]:
    """The languages Yes and No are read in at a Yes/No screen, hers first: hers, English,
    then those spoken in her market (`YES_NO_SPOKEN`)."""
    return list(dict.fromkeys([locale, DEFAULT_LOCALE, *YES_NO_SPOKEN.get(country, ())]))


def keyword_of(text: str) -> str:
    """The text as a keyword is looked up: lower case, without the punctuation around it."""
    return text.strip().casefold().strip(KEYWORD_PUNCTUATION).strip()


def _keywords(translate: Translator, locale: str, msgid: str) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in translate(locale, msgid).split(",") if w.strip())
