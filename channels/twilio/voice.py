"""POST /channels/twilio/voice: the IVR. Each answer comes back to the `<Gather>` action.

The action URL carries a turn counter (`?turn=3`), so the idempotency key (CallSid, turn, input)
is the same for Twilio retrying one request and different for the caller pressing the same key
on the next screen. The first webhook of a call has no turn and no digits: it starts.

The `<Redirect>` that silence follows also counts the silences in a row (`&silent=2`): a key
pressed resets it (the `<Gather>` action has none), and the third ends the call with a goodbye
instead of repeating the screen for as long as a phone is left off the hook. The dialog is told
(`hanging_up`), so the drivers' IVR can say its own goodbye and text the driver how to go on.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from aiohttp import web
from pydantic import ValidationError

from channels.edge import bad_request, parse_form
from channels.render.voice import (
    CALLER_WITHHELD,
    MAX_SILENCES,
    NO_ANSWER,
    only_invalid,
    render_voice,
    silences_of,
    spoken_end,
)
from channels.twilio.forms import VoiceForm
from channels.twilio.keys import BODY, CONTEXT, PROVIDER, PUBLIC_URL
from channels.twilio.signature import origin
from channels.twilio.twiml import SAY_VOICES, twiml_response, voice_twiml
from core.i18n import DEFAULT_LOCALE
from core.messages import VOICE_CAPABILITIES, ChannelKind, InboundMessage

# Prompts only in the languages Twilio has a documented <Say> voice for (twiml.SAY_VOICES).
TWILIO_VOICE_CAPABILITIES = replace(VOICE_CAPABILITIES, languages=tuple(SAY_VOICES))
TURN = "turn"
SILENT = "silent"
MAX_TURN = 100_000
SPOKEN_PUNCTUATION = " .,!?"


def answer_of(form: VoiceForm) -> str:
    """The keys pressed, else what was said (speech recognition adds a full stop: "2.")."""
    if form.digits:
        return form.digits
    return form.speech_result.strip(SPOKEN_PUNCTUATION)


def to_message(
    form: VoiceForm, turn: int, *, hanging_up: bool = False, silent: bool = False
) -> InboundMessage:
    answer = answer_of(form)
    digest = hashlib.sha256(f"{form.call_sid}\x00{turn}\x00{answer}".encode()).hexdigest()[:32]
    return InboundMessage(
        kind=ChannelKind.VOICE,
        provider=PROVIDER,
        phone=form.phone,
        session_key=f"twilio-voice:{form.call_sid}",
        text=answer,
        capabilities=TWILIO_VOICE_CAPABILITIES,
        idempotency_key=f"twilio-voice:{digest}",
        raw=form.model_dump(by_alias=True),
        hanging_up=hanging_up,
        silent=silent,
    )


def turn_of(request: web.Request) -> int | None:
    raw = request.query.get(TURN, "0")
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_TURN:
        return None
    return int(raw)


def action_url(request: web.Request, turn: int, silent: int = 0) -> str:
    """Absolute, on the public URL when there is one: where Twilio posts the next answer
    (`silent`: where it posts after that many gathers in a row heard nothing)."""
    url = f"{origin(request, request.app[PUBLIC_URL])}{request.path}?{TURN}={turn}"
    return f"{url}&{SILENT}={silent}" if silent else url


async def voice(request: web.Request) -> web.Response:
    turn = turn_of(request)
    if turn is None:
        return web.Response(
            status=400, text=f"Bad request: {TURN} must be a whole number up to {MAX_TURN}\n"
        )
    try:
        form = parse_form(request[BODY], VoiceForm)
    except ValidationError as exc:
        if not only_invalid(exc, "From", missing=False):
            return bad_request(exc)
        # A withheld number ("anonymous") cannot be served: say why, in English (the number
        # would have told the language), instead of Twilio's "an application error".
        goodbye = spoken_end(request.app[CONTEXT].translate, DEFAULT_LOCALE, CALLER_WITHHELD)
        return twiml_response(voice_twiml(goodbye, DEFAULT_LOCALE, "", ""))
    except UnicodeDecodeError as exc:
        return bad_request(exc)
    silences = silences_of(request.query.get(SILENT), answered=bool(answer_of(form)))
    if silences is None:
        return web.Response(
            status=400, text=f"Bad request: {SILENT} must be a whole number up to {MAX_SILENCES}\n"
        )
    ctx = request.app[CONTEXT]
    hanging_up = silences >= MAX_SILENCES
    reply = await ctx.handle(to_message(form, turn, hanging_up=hanging_up, silent=silences > 0))
    if hanging_up and not reply.end:  # the dialog has no goodbye of its own
        prompt = spoken_end(ctx.translate, reply.locale, NO_ANSWER)
    else:
        prompt = render_voice(reply, ctx.translate)
    next_action = action_url(request, turn + 1)
    on_silence = action_url(request, turn + 1, silences + 1)
    return twiml_response(voice_twiml(prompt, reply.locale, next_action, on_silence))
