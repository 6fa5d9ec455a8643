"""POST /channels/africastalking/ussd: the USSD callback in, `CON …`/`END …` out."""

from __future__ import annotations

import hashlib

import structlog
from aiohttp import web

from channels.africastalking.forms import UssdEventForm, UssdForm
from channels.africastalking.keys import HANDLE, MAX_BODY
from channels.edge import read_form
from channels.render.ussd import render_ussd
from core.messages import USSD_CAPABILITIES, ChannelKind, InboundMessage

log = structlog.get_logger(__name__)
PROVIDER = "africastalking"


def to_message(form: UssdForm) -> InboundMessage:
    # A session is one phone's: a callback with her sessionId from another number never
    # continues her cart and screens under his, nor is answered with her stored screen.
    phone = form.phone.e164
    digest = hashlib.sha256(f"{form.sessionId}\x00{phone}\x00{form.text}".encode()).hexdigest()
    return InboundMessage(
        kind=ChannelKind.USSD,
        provider=PROVIDER,
        phone=form.phone,
        session_key=f"at-ussd:{form.sessionId}:{phone}",
        text=form.text,
        transcript=form.text,
        capabilities=USSD_CAPABILITIES,
        idempotency_key=f"at-ussd:{digest[:32]}",
        raw=form.model_dump(),
        service_code=form.serviceCode,
    )


async def ussd(request: web.Request) -> web.Response:
    form = await read_form(request, UssdForm, request.app[MAX_BODY])
    if isinstance(form, web.Response):
        return form
    reply = await request.app[HANDLE](to_message(form))
    return web.Response(text=render_ussd(reply), content_type="text/plain")


async def ussd_event(request: web.Request) -> web.Response:
    """End-of-session notification: logged for operations; the session already expired."""
    form = await read_form(request, UssdEventForm, request.app[MAX_BODY])
    if isinstance(form, web.Response):
        return form
    log.info("ussd.session_ended", session_id=form.sessionId, status=form.status)
    return web.Response(text="OK")
