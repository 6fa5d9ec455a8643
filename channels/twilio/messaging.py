"""POST /channels/twilio/sms and /whatsapp: Twilio's Messaging webhook in, TwiML `<Message>` out.

One conversation per customer and kind (`sms:+234…`, `whatsapp:+234…`); Twilio's MessageSid is
the idempotency key, so a webhook delivered twice is answered twice with one effect.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from channels.edge import bad_request, parse_form
from channels.render.sms import render_sms
from channels.twilio.forms import MessageForm, SmsForm, WhatsAppForm
from channels.twilio.keys import BODY, CONTEXT, PROVIDER
from channels.twilio.twiml import message_twiml, twiml_response
from core.messages import (
    SMS_CAPABILITIES,
    WHATSAPP_TEXT_CAPABILITIES,
    ChannelKind,
    InboundMessage,
)
from core.region import market_locale


def text_of(form: MessageForm) -> str:
    """What the customer answered: a quick-reply button's payload, else the typed text.

    A shared location has no body; it arrives as "latitude,longitude" (the dialog has no
    location step yet, so today it is answered like any other unexpected text).
    """
    if form.button_payload:
        return form.button_payload
    location = form.location
    if location is not None and not form.body.strip():
        latitude, longitude = location
        return f"{latitude},{longitude}"
    return form.body


def to_message(form: MessageForm, kind: ChannelKind) -> InboundMessage:
    phone = form.phone
    return InboundMessage(
        kind=kind,
        provider=PROVIDER,
        phone=phone,
        session_key=f"{kind.value}:{phone.e164}",
        text=text_of(form),
        capabilities=(
            WHATSAPP_TEXT_CAPABILITIES if kind is ChannelKind.WHATSAPP else SMS_CAPABILITIES
        ),
        idempotency_key=f"twilio-message:{form.message_sid}",
        locale_hint=market_locale(phone),
        raw=form.model_dump(by_alias=True),
        # Twilio blocks a sender who texts STOP, CANCEL, END… and unblocks one who texts START
        # or YES (a Messaging Service's Advanced Opt-Out, its WhatsApp senders included): we
        # follow it, or every later message to her would fail.
        opt_out=form.opt_out,
    )


async def sms(request: web.Request) -> web.Response:
    return await _answer(request, SmsForm, ChannelKind.SMS)


async def whatsapp(request: web.Request) -> web.Response:
    return await _answer(request, WhatsAppForm, ChannelKind.WHATSAPP)


async def _answer(
    request: web.Request, model: type[MessageForm], kind: ChannelKind
) -> web.Response:
    try:
        form = parse_form(request[BODY], model)
    except (ValidationError, UnicodeDecodeError) as exc:
        return bad_request(exc)
    context = request.app[CONTEXT]
    message = to_message(form, kind)
    if kind is ChannelKind.WHATSAPP and context.record_inbound is not None:
        # Notifications sent later through Twilio need the 24-hour window this message opens.
        await context.record_inbound("twilio", message.phone)
    reply = await context.handle(message)
    return twiml_response(message_twiml(render_sms(reply)))
