"""What crosses the channel boundary: one normalised inbound message and one reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.phone import Phone


class ChannelKind(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the user's screen can take; dialogs page their lists to fit it."""

    screen_chars: int
    max_options: int
    interactive: bool = False
    charset: str = "gsm7"


USSD_CAPABILITIES = Capabilities(screen_chars=182, max_options=9)


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    end: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "options": [{"key": o.key, "label": o.label} for o in self.options],
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=str(data["text"]),
            options=tuple(Option(str(o["key"]), str(o["label"])) for o in data["options"]),
            end=bool(data["end"]),
        )


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One user turn, whatever the provider.

    `transcript` carries a provider's cumulative input history (Africa's Talking USSD sends every
    input so far joined by '*'); the pipeline derives the newest input from it and the session, so
    an input that itself contains '*' survives.
    """

    kind: ChannelKind
    provider: str
    phone: Phone
    session_key: str
    text: str
    capabilities: Capabilities
    idempotency_key: str
    transcript: str | None = None
    locale_hint: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[InboundMessage], Awaitable[Reply]]
"""What a channel is given: the pipeline's `handle` (Rasa's `on_new_message`)."""
