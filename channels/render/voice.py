"""Voice prompts: the reply read out, then one "Press N for …" per choice, keys for DTMF.

Shared by Africa's Talking voice XML and Twilio's TwiML; each provider writes its own markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from core.messages import Reply

CALLER_WITHHELD = "voice.caller_withheld"
NO_ANSWER = "voice.no_answer"
# Screens repeated for silence before the call is ended: a phone left off the hook hangs up.
MAX_SILENCES = 3
# The key that sends the digits keyed so far (finishOnKey; Twilio's default, set on both lines).
FINISH_KEY = "#"


@dataclass(frozen=True, slots=True)
class VoicePrompt:
    say: str
    keys: tuple[str, ...]
    end: bool
    free_input: bool = False  # any number of digits, ended by '#' or the timeout
    input_length: int | None = None  # a free input of this many digits: taken once keyed

    @property
    def num_digits(self) -> int | None:
        """The GetDigits/Gather numDigits: keyed that many digits, the answer goes at once;
        None: it goes on '#' (FINISH_KEY) or the timeout. A menu's is its longest key ("98"
        for More); a free input's is its fixed length (a delivery code), if it has one."""
        return gather_digits(self.keys, free_input=self.free_input, input_length=self.input_length)


def gather_digits(
    keys: tuple[str, ...], *, free_input: bool, input_length: int | None
) -> int | None:
    if free_input:
        return input_length
    return max((len(k) for k in keys), default=0) or None


def render_voice(reply: Reply, translate: Callable[..., str]) -> VoicePrompt:
    keys = tuple(o.key for o in reply.options)
    digits = gather_digits(keys, free_input=reply.expects_input, input_length=reply.input_length)
    sentences = reply.text.splitlines()
    if reply.expects_input and digits is None:
        # any number of digits (a quantity): only '#' sends them before the timeout
        sentences.append(translate(reply.locale, "voice.then_hash"))
    # A key shorter than numDigits ("00" for Back under a 4-digit code) is sent by '#', or
    # after the whole timeout (or lost, on Africa's Talking): the caller is told to press it.
    # Several such keys (a paged menu's 1-7 and 0 beside 98) are told so once, not on each line;
    # a whole-length key ("98") keeps its own "Press", as a '#' after it would reach the next
    # prompt as an empty answer.
    hashed = [o for o in reply.options if len(o.key) != digits]
    if len(hashed) > 1:
        sentences.append(translate(reply.locale, "voice.number_then_hash"))
        sentences.append(
            ", ".join(
                translate(reply.locale, "voice.key_for", key=" ".join(o.key), label=o.label)
                for o in hashed
            )
        )
    sentences.extend(
        translate(
            reply.locale,
            "voice.press" if len(o.key) == digits else "voice.press_then_hash",
            key=" ".join(o.key),
            label=o.label,
        )
        for o in reply.options
        if len(o.key) == digits or len(hashed) == 1
    )
    return VoicePrompt(
        say=" ".join(_sentence(s) for s in sentences if s.strip()),
        keys=keys,
        end=reply.end,
        free_input=reply.expects_input,
        input_length=reply.input_length,
    )


def spoken_end(translate: Callable[..., str], locale: str, msgid: str) -> VoicePrompt:
    """One sentence read out before the call is hung up, without the dialog."""
    return VoicePrompt(say=translate(locale, msgid), keys=(), end=True)


def only_invalid(exc: ValidationError, field: str, *, missing: bool) -> bool:
    """Whether the one thing wrong with a form is `field` (or, with `missing`, its absence):
    a caller's number withheld ("anonymous", none at all) rather than a malformed request."""
    errors = exc.errors()
    return bool(errors) and all(
        e["loc"] == (field,) and (missing or e["type"] != "missing") for e in errors
    )


def silences_of(raw: str | None, *, answered: bool) -> int | None:
    """How many prompts in a row this callback heard nothing for, from the count our silence
    URL carries (none on the URL keys are posted to); None for a count we never issued."""
    if raw is None or answered:
        return 0
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_SILENCES:
        return None
    return int(raw)


def _sentence(text: str) -> str:
    """End with one full stop: 'Choose a category:' and 'Thank you!' are read as they should be."""
    text = text.strip().rstrip(":").rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."
