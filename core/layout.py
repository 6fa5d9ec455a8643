"""The plain-text screen layout shared by USSD, SMS and voice menus, and how long it is."""

from __future__ import annotations

from collections.abc import Sequence

from core.gsm7 import gsm7_length
from core.messages import Capabilities, Option


def layout(text: str, options: Sequence[Option]) -> str:
    """The text, then one `N. Label` line per option."""
    lines = [text] if text else []
    lines.extend(f"{o.key}. {o.label}" for o in options)
    return "\n".join(lines)


def measure(text: str, caps: Capabilities) -> int:
    """Characters as the handset counts them: GSM-7 septets, or code points for UCS-2/UTF-8."""
    return gsm7_length(text) if caps.charset == "gsm7" else len(text)
