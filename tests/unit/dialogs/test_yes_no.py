"""Yes and No typed at 'Add 5 x Indomie…? 1. Yes 2. No' with the polite words people put around
them: "Oui, pas de problème", "Yes please", "Ndio tafadhali", "Eh, no wahala" are a Yes. A reply
that says both is no answer: she is asked again."""

from __future__ import annotations

import pytest

from core.conversation import Session
from core.i18n import Translator
from core.messages import SMS_CAPABILITIES, ChannelKind, InboundMessage
from core.phone import Phone
from dialogs.machine import Turn
from dialogs.shopping.states import yes_or_no

# (her language, her phone, what she typed, how it is read)
REPLIES = [
    ("fr", "+2348030000001", "Oui, pas de problème", "yes"),
    ("fr", "+2348030000001", "Pas de probleme, merci", "yes"),
    ("en", "+2348030000001", "Yes please", "yes"),
    ("en", "+2348030000001", "No problem", "yes"),
    ("en", "+2348030000001", "Eh, no wahala", "yes"),  # Pidgin, in Nigeria
    ("pcm", "+2348030000001", "Yes o, no wahala!", "yes"),
    ("sw", "+254711000001", "Ndio tafadhali", "yes"),
    ("sw", "+254711000001", "Sawa, hakuna shida", "yes"),
    ("ha", "+2348030000001", "Eh, babu matsala", "yes"),
    ("yo", "+2348030000001", "Beeni, ko si isoro", "yes"),
    ("ig", "+2348030000001", "Ee, o nweghi nsogbu", "yes"),
    ("fr", "+2348030000001", "Non merci", "no"),
    ("sw", "+254711000001", "Hapana asante", "no"),
    ("ig", "+2348030000001", "Mba, daalu", "no"),
    # both a Yes and a No: unclear
    ("en", "+2348030000001", "yes no", None),
    ("fr", "+2348030000001", "Oui non", None),
    ("sw", "+254711000001", "Ndio, hapana", None),
    # words that are neither
    ("en", "+2348030000001", "Yes but only two", None),
    ("en", "+2348030000001", "thanks", None),
]


def turn_of(translator: Translator, locale: str, phone: str, text: str) -> Turn:
    message = InboundMessage(
        kind=ChannelKind.SMS,
        provider="africastalking",
        phone=Phone.parse(phone),
        session_key=f"at-sms:{phone}",
        text=text,
        capabilities=SMS_CAPABILITIES,
        idempotency_key="k:1",
    )
    return Turn(message, Session("typed_confirm", locale), translator)


@pytest.mark.parametrize(("locale", "phone", "text", "answer"), REPLIES)
def test_yes_or_no_is_read_from_its_words_with_polite_filler(
    translator: Translator, locale: str, phone: str, text: str, answer: str | None
) -> None:
    country = "NG" if phone.startswith("+234") else "KE"
    assert yes_or_no(turn_of(translator, locale, phone, text), text, country) == answer
