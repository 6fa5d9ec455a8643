"""SMS text: the reply and its numbered choices. Never cut: the provider splits long ones."""

from __future__ import annotations

from core.gsm7 import is_gsm7
from core.layout import layout
from core.messages import Reply

GSM7_SEGMENT = 160
UCS2_SEGMENT = 70


def render_sms(reply: Reply) -> str:
    return layout(reply.text, reply.options)


def segment_limit(text: str) -> int:
    """One message holds 160 GSM-7 characters, or 70 when any character needs UCS-2."""
    return GSM7_SEGMENT if is_gsm7(text) else UCS2_SEGMENT
