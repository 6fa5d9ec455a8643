"""POST /channels/twilio/status: Twilio's message status callbacks move a delivery along."""

from __future__ import annotations

import structlog
from aiohttp import web
from pydantic import ValidationError

from channels.edge import bad_request, parse_form
from channels.twilio.forms import StatusForm
from channels.twilio.keys import BODY, CONTEXT, PROVIDER

log = structlog.get_logger(__name__)


async def status(request: web.Request) -> web.Response:
    try:
        form = parse_form(request[BODY], StatusForm)
    except (ValidationError, UnicodeDecodeError) as exc:
        return bad_request(exc)
    matched = await request.app[CONTEXT].report_delivery(
        PROVIDER, form.message_sid, form.message_status
    )
    # Replies given as TwiML have no delivery of ours, so an unmatched callback is normal.
    log.info(
        "twilio.status",
        message_sid=form.message_sid,
        status=form.message_status,
        error_code=form.error_code,
        matched=matched,
    )
    return web.Response(status=204)
