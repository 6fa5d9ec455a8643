"""GSM 03.38 (GSM-7) text: which characters a feature phone can show and what they cost."""

from __future__ import annotations

from functools import lru_cache

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = "^{}\\[~]|€\f"
_BASIC_SET = frozenset(_BASIC)
_EXTENDED_SET = frozenset(_EXTENDED)


class NotGsm7Error(ValueError):
    """Text with a character outside GSM-7; on USSD it would come out as garbage."""


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC_SET or ch in _EXTENDED_SET for ch in text)


@lru_cache(maxsize=8192)
def gsm7_length(text: str) -> int:
    """Septets the text occupies: extension-table characters cost two (escape + char).

    Cached: the same screens and lines are measured on every hop.
    """
    length = 0
    for ch in text:
        if ch in _BASIC_SET:
            length += 1
        elif ch in _EXTENDED_SET:
            length += 2
        else:
            raise NotGsm7Error(f"{ch!r} is not in the GSM-7 alphabet")
    return length
