"""What crosses the channel boundary: one normalised inbound message and one reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

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
    # The languages its words can be in (a voice line has a text-to-speech voice for only
    # some); empty: any language we speak.
    languages: tuple[str, ...] = ()
    # Choices shown as reply buttons rather than a list (Meta: up to three, a title of up to 20
    # characters each); 0: none are.
    max_buttons: int = 0
    button_chars: int = 0
    # The longest label a list row takes (Meta: 72, whole in the row's description); a longer
    # one makes the whole screen numbered text. 0: any length.
    row_chars: int = 0

    def in_language(self, locale: str) -> str:
        """`locale` when the words can be in it, else the first language they can be in."""
        if not self.languages or locale in self.languages:
            return locale
        return self.languages[0]


USSD_CAPABILITIES = Capabilities(screen_chars=182, max_options=9)
# One SMS segment is 160 GSM-7 characters; a longer reply is split by the provider, never cut,
# but menus are paged to fit one segment where they can.
SMS_CAPABILITIES = Capabilities(screen_chars=160, max_options=9)
# Meta's interactive list: body up to 1024 characters, at most 10 rows.
WHATSAPP_INTERACTIVE_CAPABILITIES = Capabilities(
    screen_chars=1024,
    max_options=10,
    interactive=True,
    charset="utf8",
    max_buttons=3,
    button_chars=20,
    row_chars=72,
)
# WhatsApp through Twilio: plain numbered text (Twilio's body limit is 1600 characters).
WHATSAPP_TEXT_CAPABILITIES = Capabilities(screen_chars=1024, max_options=9, charset="utf8")
# Voice: prompts are read out, so keep menus short; choices are single DTMF keys.
VOICE_CAPABILITIES = Capabilities(screen_chars=400, max_options=9, charset="utf8")
WEB_CAPABILITIES = Capabilities(screen_chars=2000, max_options=10, interactive=True, charset="utf8")


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Localised words and choices; `locale` lets a renderer add its own words (voice)."""

    text: str
    options: tuple[Option, ...] = ()
    end: bool = False
    locale: str = "en"
    expects_input: bool = False  # a free answer (a quantity), not one of the options
    # A free answer that always has this many characters (a delivery code): a voice channel
    # takes it as soon as it is keyed, without waiting for '#'.
    input_length: int | None = None
    # Names the screen these options belong to, so a channel whose choices are tapped later
    # (a WhatsApp list scrolled back to) can say which screen a tap came from.
    screen: str | None = None

    @property
    def says_nothing(self) -> bool:
        """A turn that answers with no message (a reaction to a screen that asked no Yes or
        No): a channel that answers through an API sends nothing."""
        return not self.text and not self.options

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "options": [{"key": o.key, "label": o.label} for o in self.options],
            "end": self.end,
            "locale": self.locale,
            "expects_input": self.expects_input,
        }
        if self.screen is not None:
            data["screen"] = self.screen
        if self.input_length is not None:
            data["input_length"] = self.input_length
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=str(data["text"]),
            options=tuple(Option(str(o["key"]), str(o["label"])) for o in data["options"]),
            end=bool(data["end"]),
            locale=str(data.get("locale", "en")),
            expects_input=bool(data.get("expects_input", False)),
            screen=str(data["screen"]) if data.get("screen") is not None else None,
            input_length=(
                int(data["input_length"]) if data.get("input_length") is not None else None
            ),
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
    # The `Reply.screen` of the options a tap was made on, when the channel knows it: a tap on
    # an older screen is not read against the current one.
    screen: str | None = None
    # When the provider says it received the message (Meta's `timestamp`); None when the
    # provider does not say. A message older than the conversation's newest one, or than
    # WhatsApp's 24-hour window, arrived late: it changes nothing.
    sent_at: datetime | None = None
    # Voice: the channel hangs up after this turn, the caller having said nothing to several
    # prompts in a row. A dialog may answer with its own goodbye (end=True) and do what that
    # needs; otherwise the channel says a plain one.
    hanging_up: bool = False
    # Voice: the prompt before heard no key (its <Gather>/GetDigits timed out): the dialog
    # repeats its screen saying so, rather than reading the empty answer as a wrong one.
    silent: bool = False
    # The provider's own opt-out list changed with this message (Twilio's Advanced Opt-Out on a
    # "CANCEL" or "YES"): True, it blocks further messages to her; False, it lets them through
    # again; None when the provider does not say. The text may be any of its keywords, so this
    # is honoured whatever the text and wherever the conversation is.
    opt_out: bool | None = None
    # The USSD code the caller dialled (`*384*77#`): a service an operator published on it
    # answers instead of the shopping dialog. None on every other channel.
    service_code: str | None = None
    # Web chat without the phone's own token (none outside production, or staff's): the phone
    # is only claimed, proven by no network or token, so nothing is done to its other channels
    # (STOP does not stop its SMS).
    phone_claimed: bool = False
    # WhatsApp: "yes" for a 👍 reaction, "no" for a 👎, to our newest screen (`screen`): the
    # answer to that screen's Yes/No question; on a screen asking none it changes nothing and
    # gets no reply. None for every other message.
    reaction: str | None = None


Handler = Callable[[InboundMessage], Awaitable[Reply]]
"""What a channel is given: the pipeline's `handle` (Rasa's `on_new_message`)."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message that is not a webhook's answer: sent later by the provider's sender.

    `reply_to` is the inbound message it answers (None for notifications such as an order
    confirmation), so the sender can thread it and the 24-hour WhatsApp window can be checked;
    `received_at` is when the provider says that message reached it (Meta's `timestamp`): the
    window counts from then, not from when a late webhook got here (None: now).
    `sms_fallback` is the SMS provider a WhatsApp notice goes by instead when, as it falls due,
    the window is closed and it has no template (None: it is not sent then).
    """

    provider: str
    kind: ChannelKind
    to: Phone
    reply: Reply
    dedupe_key: str
    reply_to: str | None = None
    template: str | None = None
    template_values: tuple[str, ...] = ()
    received_at: datetime | None = None
    sms_fallback: str | None = None


QueueOutbound = Callable[[OutboundMessage], Awaitable[None]]
"""What API-answered channels are given: put a reply in the outbox for the sender."""


class PermanentSendError(Exception):
    """The provider will never accept this message (a blacklisted or invalid number, a
    template that does not exist): the delivery fails now instead of being retried."""


class MessageSender(Protocol):
    """One per provider (channels/<provider>/sender.py): sends and returns the provider's id."""

    async def send(self, message: OutboundMessage) -> str: ...

    async def close(self) -> None: ...


ReportDelivery = Callable[[str, str, str], Awaitable[bool]]
"""(provider, provider message id, provider status word) -> whether it matched a delivery."""


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """Everything a provider sub-app is given by the composition root; nothing else."""

    handle: Handler
    queue_outbound: QueueOutbound
    report_delivery: ReportDelivery
    max_body: int
    translate: Callable[..., str]  # core.i18n.Translator: (locale, msgid, **values) -> words
    # (provider, phone): the customer wrote to us now, opening WhatsApp's 24-hour window.
    record_inbound: Callable[[str, Phone], Awaitable[None]] | None = None
    # The language a customer reads: the one they chose, else their market's. For words a
    # channel writes itself (a WhatsApp picture it cannot read); None: the market's.
    locale_of: Callable[[Phone], Awaitable[str]] | None = None
    # (provider, provider message id): the `Reply.screen` a message we sent showed, for a
    # message that quotes it (a WhatsApp swipe-reply); None when unknown.
    screen_sent: Callable[[str, str], Awaitable[str | None]] | None = None
    # (provider, phone): the newest message we sent her that showed a screen, as (provider
    # message id, `Reply.screen`); a reaction answers only that one. None when none was sent.
    last_screen_sent: Callable[[str, Phone], Awaitable[tuple[str, str] | None]] | None = None
    # (old, new): a customer changed her phone number (WhatsApp's `user_changed_number`); what
    # is kept under the old one moves to the new one, unless that one has history of its own.
    change_number: Callable[[Phone, Phone], Awaitable[None]] | None = None
