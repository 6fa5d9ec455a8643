"""What a voice prompt tells the caller to press sends the keys at once, on every screen.

A key is sent when the gather has numDigits digits, or on its finish key ('#'); a key shorter
than numDigits that the prompt does not end with '#' waits for the 30 s timeout (and is lost on
Africa's Talking, which moves on to the Redirect).
"""

from __future__ import annotations

import re

import pytest

from channels.render.voice import FINISH_KEY, render_voice
from core.i18n import Translator
from core.messages import Option, Reply

translate = Translator.load()
_PRESS = re.compile(r"Press ([\d ]+?)( then hash)? for ")


def told(say: str) -> list[str]:
    """Each key sequence the prompt tells the caller to press, '#' included when it says so."""
    return [
        keys.replace(" ", "") + (FINISH_KEY if hashed else "")
        for keys, hashed in _PRESS.findall(say)
    ]


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
