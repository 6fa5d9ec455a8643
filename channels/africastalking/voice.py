"""POST /channels/africastalking/voice: a call's callbacks in, Africa's Talking voice XML out.

Each answer that waits for keys is a GetDigits whose callbackUrl carries `step`, the number of
the next callback in this call. A retried callback repeats its step (and digits), so its
idempotency key repeats and it applies once; the same digits pressed later in the call arrive
with a higher step and are a new turn. The Redirect that silence follows also counts the
silences in a row (`silent`): keys pressed reset it, and the third ends the call with a goodbye.
The dialog is told (`hanging_up`), so the drivers' IVR can say its own goodbye and text the driver
how to go on, as on Twilio.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from xml.etree.ElementTree import Element, SubElement, tostring

from aiohttp import web
from pydantic import ValidationError
from yarl import URL

from channels.africastalking.forms import VoiceCallbackForm, VoiceForm
from channels.africastalking.keys import CALLBACK_TOKEN, HANDLE, MAX_BODY, PUBLIC_URL, TRANSLATE
from channels.edge import BodyTooLargeError, bad_request, parse_form, read_bounded, too_large
from channels.render.voice import (
    CALLER_WITHHELD,
    FINISH_KEY,
    MAX_SILENCES,
    NO_ANSWER,
    VoicePrompt,
    only_invalid,
    render_voice,
    silences_of,
    spoken_end,
)
from core.i18n import DEFAULT_LOCALE
from core.messages import VOICE_CAPABILITIES, ChannelKind, InboundMessage

PROVIDER = "africastalking"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
# Seconds a GetDigits waits for keys (Africa's Talking's documented default, set so it is ours):
# a driver at a door waits for the customer to find the code, about two minutes over the three
# silent prompts before the call ends (MAX_SILENCES), as Twilio's <Gather> waits.
DIGITS_TIMEOUT_SECONDS = 30
MAX_STEP = 10_000
# The languages Africa's Talking's <Say> reads: English, Swahili and French. A caller whose
# language it has no voice for (Nigerian Pidgin, Hausa, Yoruba, Igbo) would hear her words
# spelled out by an English voice, so her prompts are in English; SMS, USSD and WhatsApp keep
# her language.
SAY_LANGUAGES = ("en", "sw", "fr")
AT_VOICE_CAPABILITIES = replace(VOICE_CAPABILITIES, languages=SAY_LANGUAGES)


def to_message(
    form: VoiceForm, step: int, *, hanging_up: bool = False, silent: bool = False
) -> InboundMessage:
    digest = hashlib.sha256(f"{form.sessionId}\x00{step}\x00{form.dtmfDigits}".encode())
    return InboundMessage(
        kind=ChannelKind.VOICE,
        provider=PROVIDER,
        phone=form.phone,
        session_key=f"at-voice:{form.sessionId}",
        # the '#' that sent the keys is not one of them (as Twilio leaves it out of Digits)
        text=form.dtmfDigits.removesuffix(FINISH_KEY),
        capabilities=AT_VOICE_CAPABILITIES,
        idempotency_key=f"at-voice:{digest.hexdigest()[:32]}",
        raw=form.model_dump(),
        hanging_up=hanging_up,
        silent=silent,
    )


def callback_url(request: web.Request, step: int, silent: int = 0) -> str:
    """Absolute, as Africa's Talking requires: OMNIROUTE_PUBLIC_URL if set, else as called.
    `silent`: the callback after that many GetDigits in a row got no keys."""
    public = request.app[PUBLIC_URL]
    base = URL(public.rstrip("/") + request.path) if public else request.url.with_query(None)
    query: dict[str, str] = {}
    token = request.app[CALLBACK_TOKEN]
    if token is not None:
        query["token"] = token.get_secret_value()
    query["step"] = str(step)
    if silent:
        query["silent"] = str(silent)
    return str(base.with_query(query))


def voice_xml(prompt: VoicePrompt, next_url: str, on_silence: str) -> str:
    """Say the prompt; unless the conversation ended, wait for keys and post them to next_url.

    A GetDigits that gets no keys moves on to the next action without a callback, and the call
    hangs up after the last one: the Redirect to on_silence (next_url counting the silence; no
    dtmfDigits) makes silence repeat the screen with a line saying why, as Twilio's
    `<Redirect>` after `<Gather>` does.
    """
    response = Element("Response")
    if prompt.end:
        SubElement(response, "Say").text = prompt.say
    else:
        attributes = {"timeout": str(DIGITS_TIMEOUT_SECONDS), "finishOnKey": FINISH_KEY}
        if prompt.num_digits is not None:
            # a menu key, or a fixed-length answer (a delivery code), goes as soon as it is
            # keyed, '#' or not; a shorter key ("00" for Back) goes on the '#' its prompt asks
            attributes["numDigits"] = str(prompt.num_digits)
        attributes["callbackUrl"] = next_url
        digits = SubElement(response, "GetDigits", attributes)
        SubElement(digits, "Say").text = prompt.say
        SubElement(response, "Redirect").text = on_silence
    return XML_DECLARATION + tostring(response, encoding="unicode")


def _step(request: web.Request) -> int | None:
    raw = request.query.get("step", "0")
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_STEP:
        return None
    return int(raw)


async def voice(request: web.Request) -> web.Response:
    limit = request.app[MAX_BODY]
    try:
        body = await read_bounded(request, limit)
        if not parse_form(body, VoiceCallbackForm).active:
            # The call is over: this last callback reports duration and cost; nothing to say.
            return web.Response(body=b"")
        form = parse_form(body, VoiceForm)
    except BodyTooLargeError:
        return too_large(limit)
    except ValidationError as exc:
        if not only_invalid(exc, "callerNumber", missing=True):
            return bad_request(exc)
        # A withheld number (none, or not digits) cannot be served: say why, in English (the
        # number would have told the language); the call hangs up after the Say.
        goodbye = spoken_end(request.app[TRANSLATE], DEFAULT_LOCALE, CALLER_WITHHELD)
        return web.Response(text=voice_xml(goodbye, "", ""), content_type="application/xml")
    except UnicodeDecodeError as exc:
        return bad_request(exc)
    step = _step(request)
    if step is None:
        return web.Response(status=400, text="Bad request: step must be a whole number\n")
    silences = silences_of(request.query.get("silent"), answered=bool(form.dtmfDigits))
    if silences is None:
        return web.Response(
            status=400, text=f"Bad request: silent must be a whole number up to {MAX_SILENCES}\n"
        )
    hanging_up = silences >= MAX_SILENCES
    message = to_message(form, step, hanging_up=hanging_up, silent=silences > 0)
    reply = await request.app[HANDLE](message)
    translate = request.app[TRANSLATE]
    if hanging_up and not reply.end:  # the dialog has no goodbye of its own
        prompt = spoken_end(translate, reply.locale, NO_ANSWER)
    else:
        prompt = render_voice(reply, translate)
    next_url = callback_url(request, step + 1)
    on_silence = callback_url(request, step + 1, silences + 1)
    return web.Response(
        text=voice_xml(prompt, next_url, on_silence), content_type="application/xml"
    )
