"""Intent resolution: what the user meant by their input, before any dialog sees it.

Menus answer with numbers; typed words for Back/Home come from each locale's keyword list.
Free-text understanding (a matcher, Rasa NLU) plugs in behind the same function later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.i18n import Translator


class IntentKind(StrEnum):
    START = "start"
    BACK = "back"
    HOME = "home"
    INPUT = "input"


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    text: str = ""


HOME_KEYS = frozenset({"00"})


def resolve_intent(text: str, locale: str, translate: Translator) -> Intent:
    cleaned = text.strip()
    if cleaned in HOME_KEYS:
        return Intent(IntentKind.HOME, cleaned)
    word = cleaned.casefold()
    if word and word in _keywords(translate, locale, "keyword.home"):
        return Intent(IntentKind.HOME, cleaned)
    if word and word in _keywords(translate, locale, "keyword.back"):
        return Intent(IntentKind.BACK, cleaned)
    return Intent(IntentKind.INPUT, cleaned)


def _keywords(translate: Translator, locale: str, msgid: str) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in translate(locale, msgid).split(",") if w.strip())
