"""Voice prompts: the reply read out, then one "Press N for …" per choice, keys for DTMF.

Shared by Africa's Talking voice XML and Twilio's TwiML; each provider writes its own markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.messages import Reply


@dataclass(frozen=True, slots=True)
class VoicePrompt:
    say: str
    keys: tuple[str, ...]
    end: bool

    @property
    def max_digits(self) -> int:
        """How many digits the longest key has ("98" for More): the Gather's numDigits."""
        return max((len(k) for k in self.keys), default=1)


def render_voice(reply: Reply, translate: Callable[..., str]) -> VoicePrompt:
    sentences = [reply.text.replace("\n", ". ")]
    sentences.extend(
        translate(reply.locale, "voice.press", key=" ".join(o.key), label=o.label)
        for o in reply.options
    )
    return VoicePrompt(
        say=" ".join(s.rstrip(".") + "." for s in sentences if s),
        keys=tuple(o.key for o in reply.options),
        end=reply.end,
    )
