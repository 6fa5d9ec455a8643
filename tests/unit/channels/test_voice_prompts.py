"""What a voice prompt tells the caller to press sends the keys at once, on every screen.

A key is sent when the gather has numDigits digits, or on its finish key ('#'); a key shorter
than numDigits that the prompt does not end with '#' waits for the 30 s timeout (and is lost on
Africa's Talking, which moves on to the Redirect).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from channels.africastalking.voice import voice_xml
from channels.render.voice import FINISH_KEY, VoicePrompt, render_voice
from channels.twilio.twiml import voice_twiml
from core.i18n import Translator
from core.messages import Option, Reply
from tests.support.spoken_menu import spoken_choices

translate = Translator.load()


def told(say: str) -> list[str]:
    """Each key sequence the prompt tells the caller to press, '#' included when it says so."""
    return [c.keys + (FINISH_KEY if c.hashed else "") for c in spoken_choices(say)]


def sent_at_once(keys: str, num_digits: int | None) -> bool:
    return FINISH_KEY in keys or (num_digits is not None and len(keys) >= num_digits)


SCREENS = {
    "menu": Reply("Choose a category:", (Option("1", "Noodles"), Option("0", "Back"))),
    "paged menu": Reply(
        "Choose a product:",
        (Option("1", "Indomie"), Option("98", "More"), Option("0", "Back")),
    ),
    "delivery code": Reply(
        "Enter the customer's 4-digit delivery code.",
        (Option("00", "Back"),),
        expects_input=True,
        input_length=4,
    ),
    "quantity": Reply("Enter quantity:", (Option("00", "Back"),), expects_input=True),
}


@pytest.mark.parametrize("reply", SCREENS.values(), ids=SCREENS.keys())
def test_every_key_a_prompt_names_is_sent_at_once(reply: Reply) -> None:
    prompt = render_voice(reply, translate)

    keys = told(prompt.say)
    assert len(keys) == len(reply.options), prompt.say
    assert all(sent_at_once(k, prompt.num_digits) for k in keys), (prompt.say, prompt.num_digits)


def test_a_free_number_is_sent_by_the_hash_the_prompt_asks_for() -> None:
    prompt = render_voice(SCREENS["quantity"], translate)

    assert prompt.num_digits is None
    assert prompt.say == "Enter quantity. Then press hash. Press 0 0 then hash for Back."


def test_the_delivery_code_goes_without_hash_and_back_with_it() -> None:
    prompt = render_voice(SCREENS["delivery code"], translate)

    assert prompt.num_digits == 4
    assert prompt.say.endswith("Press 0 0 then hash for Back.")


def test_in_swahili_back_at_the_code_is_ended_with_the_hash_key_too() -> None:
    swahili = Reply(
        "Weka namba ya mteja ya tarakimu 4.",
        (Option("00", "Rudi"),),
        locale="sw",
        expects_input=True,
        input_length=4,
    )

    prompt = render_voice(swahili, translate)

    assert prompt.say.endswith("Bonyeza 0 0 kisha alama ya reli kwa Rudi.")


PAGED = {  # locale: (text, labels of 1, 2, 98 and 0)
    "en": ("Choose a product:", ("Indomie Chicken", "Golden Penny Spaghetti", "More", "Back")),
    "fr": (
        "Choisissez un produit:",
        ("Indomie Poulet", "Spaghetti Golden", "Suite", "Retour"),
    ),
    "sw": ("Chagua bidhaa:", ("Indomie Kuku", "Tambi Golden Penny", "Zaidi", "Rudi")),
}
HEARD = {
    "en": "Choose a product. Press the number, then hash. 1 for Indomie Chicken, "
    "2 for Golden Penny Spaghetti, 0 for Back. Press 9 8 for More.",
    "fr": "Choisissez un produit. Tapez le numéro, puis dièse. 1 pour Indomie Poulet, "
    "2 pour Spaghetti Golden, 0 pour Retour. Tapez 9 8 pour Suite.",
    "sw": "Chagua bidhaa. Bonyeza namba, kisha alama ya reli. 1 kwa Indomie Kuku, "
    "2 kwa Tambi Golden Penny, 0 kwa Rudi. Bonyeza 9 8 kwa Zaidi.",
}


def paged_prompt(locale: str) -> VoicePrompt:
    text, (first, second, more, back) = PAGED[locale]
    options = (Option("1", first), Option("2", second), Option("98", more), Option("0", back))
    return render_voice(Reply(text, options, locale=locale), translate)


def test_a_paged_menu_says_then_hash_once_on_twilio_and_africas_talking() -> None:
    """1-7 and 0 beside 98 need '#': "Press the number, then hash" once, not on every line
    ("Press 1 then hash for …, Press 2 then hash for …"); 98 goes at once, as it says."""
    for locale in ("en", "fr"):  # the languages Twilio has a <Say> voice for
        twiml = ET.fromstring(str(voice_twiml(paged_prompt(locale), locale, "/next", "/silent")))
        assert twiml.findtext("Gather/Say") == HEARD[locale], locale
    for locale in ("en", "sw", "fr"):  # Africa's Talking's
        xml = voice_xml(paged_prompt(locale), "https://gw.example/next", "https://gw.example/s")
        at = ET.fromstring(xml.removeprefix('<?xml version="1.0" encoding="UTF-8"?>'))
        assert at.findtext("GetDigits/Say") == HEARD[locale], locale
        getter = at.find("GetDigits")
        assert getter is not None
        assert getter.get("numDigits") == "2"
