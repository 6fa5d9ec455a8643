"""USSD screens: `CON` asks, `END` ends; at most 182 GSM-7 characters, never truncated."""

from __future__ import annotations

from core.layout import layout, measure
from core.messages import USSD_CAPABILITIES, Reply


class UssdScreenTooLongError(ValueError):
    """The dialog produced a screen a handset cannot show: a bug, caught by the screen tests."""


def render_ussd(reply: Reply) -> str:
    body = layout(reply.text, reply.options)
    if measure(body, USSD_CAPABILITIES) > USSD_CAPABILITIES.screen_chars:
        raise UssdScreenTooLongError(body)
    return ("END " if reply.end else "CON ") + body
