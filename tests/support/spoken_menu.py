"""The choices a voice prompt reads out, as a caller hears them (English, French, Swahili).

"Press 9 8 for More." names one key sent at once; "Press 0 0 then hash for Back." one sent by
'#'; "Press the number, then hash. 1 for Indomie, 0 for Back." several sent by '#', the hash
said once for all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (press, then hash, for) in each language the voice lines speak
_WORDS = (
    ("Press", "then hash", "for"),
    ("Tapez", "puis dièse", "pour"),
    ("Bonyeza", "kisha alama ya reli", "kwa"),
)
_HASHED_HEADS = (
    "Press the number, then hash.",
    "Tapez le numéro, puis dièse.",
    "Bonyeza namba, kisha alama ya reli.",
)


@dataclass(frozen=True)
class SpokenChoice:
    keys: str  # the digits, without the spaces they are read with
    label: str
    hashed: bool  # the prompt says to end them with '#'


def _sentences(say: str) -> list[str]:
    return re.split(r"(?<=[.?!]) ", say)


def spoken_choices(say: str) -> list[SpokenChoice]:
    choices: list[SpokenChoice] = []
    hashed_list = False
    for sentence in _sentences(say):
        if sentence in _HASHED_HEADS:
            hashed_list = True
            continue
        if hashed_list:
            hashed_list = False
            for item in re.split(r", (?=[\d ]+ (?:for|pour|kwa) )", sentence.removesuffix(".")):
                found = re.fullmatch(r"([\d ]+?) (?:for|pour|kwa) (.*)", item)
                assert found is not None, f"{item!r} in: {say}"
                choices.append(SpokenChoice(found.group(1).replace(" ", ""), found.group(2), True))
            continue
        for press, then_hash, for_ in _WORDS:
            found = re.fullmatch(
                rf"{press} ([\d ]+?)( {then_hash})? {for_} (.*?)\.?", sentence, flags=re.DOTALL
            )
            if found is not None:
                keys = found.group(1).replace(" ", "")
                choices.append(SpokenChoice(keys, found.group(3), bool(found.group(2))))
                break
    return choices


def key_spoken_for(say: str, label_part: str) -> str:
    """The keys a prompt offers for a label: "… Press 9 8 for More." -> "98" (a '#' it asks
    for is not posted: Twilio and Africa's Talking send the digits before it)."""
    for choice in spoken_choices(say):
        if label_part in choice.label:
            return choice.keys
    raise AssertionError(f"no choice {label_part!r} in: {say}")
