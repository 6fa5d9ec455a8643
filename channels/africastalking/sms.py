"""POST /channels/africastalking/sms and /sms/delivery: incoming SMS and delivery reports.

Africa's Talking expects a quick 200 and takes no reply in the response: the Reply is queued in
the deliveries outbox and `sender.py` sends it through the messaging API. A redelivered callback
(same `id`) gets the stored reply from the pipeline and the same dedupe key, so it is sent once.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from channels.africastalking.forms import DeliveryReportForm, SmsForm
from channels.africastalking.keys import HANDLE, MAX_BODY, QUEUE_OUTBOUND, REPORT_DELIVERY
from channels.edge import read_form
from core.messages import SMS_CAPABILITIES, ChannelKind, InboundMessage, OutboundMessage
from core.region import market_locale

log = structlog.get_logger(__name__)
PROVIDER = "africastalking"


def to_message(form: SmsForm) -> InboundMessage:
    return InboundMessage(
        kind=ChannelKind.SMS,
        provider=PROVIDER,
        phone=form.phone,
        # One SMS conversation per customer, whichever shortcode or message it arrives on.
        session_key=f"sms:{form.phone.e164}",
        text=form.text,
        capabilities=SMS_CAPABILITIES,
        idempotency_key=f"at-sms:{form.id}",
        locale_hint=market_locale(form.phone),
        raw=form.model_dump(by_alias=True),
    )


async def sms(request: web.Request) -> web.Response:
    form = await read_form(request, SmsForm, request.app[MAX_BODY])
    if isinstance(form, web.Response):
        return form
    reply = await request.app[HANDLE](to_message(form))
    await request.app[QUEUE_OUTBOUND](
        OutboundMessage(
            provider=PROVIDER,
            kind=ChannelKind.SMS,
            to=form.phone,
            reply=reply,
            dedupe_key=f"at-sms-reply:{form.id}",
            reply_to=form.id,
        )
    )
    return web.Response(text="OK")


async def sms_delivery(request: web.Request) -> web.Response:
    """Always 200 for a well-formed report, ours or not: Africa's Talking retries anything else."""
    form = await read_form(request, DeliveryReportForm, request.app[MAX_BODY])
    if isinstance(form, web.Response):
        return form
    matched = await request.app[REPORT_DELIVERY](PROVIDER, form.id, form.status)
    log.info(
        "sms.delivery_report",
        message_id=form.id,
        status=form.status,
        failure_reason=form.failureReason,
        matched=matched,
    )
    return web.Response(text="OK")
