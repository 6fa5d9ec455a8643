"""POST /webhooks/{provider}: payment providers' callbacks -> the rail that reads them -> the
payments service that applies them once.

The rail checks authenticity over the raw bytes (a forgery is 403 and changes nothing, as
interfaces.md says of every failed secret check), the service records each callback with its
effect in one transaction (a redelivery changes nothing), and the provider gets the answer it
expects (Daraja wants `{"ResultCode": 0, …}`). When the rail must ask the provider before
believing a callback and the provider does not answer, the callback is refused 503 so that the
provider delivers it again.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from channels.edge.requests import BodyTooLargeError, read_bounded, too_large
from engines.payments import (
    CallbackForgedError,
    CallbackMalformedError,
    CallbackRequest,
    PaymentService,
    RailUnavailableError,
)

log = structlog.get_logger(__name__)

PAYMENTS = web.AppKey("payments", PaymentService)
MAX_WEBHOOK_BYTES = 64 * 1024  # Paystack's charge events with full customer details fit easily


def make_app(payments: PaymentService) -> web.Application:
    app = web.Application()
    app[PAYMENTS] = payments
    app.router.add_post("/{provider}", webhook)
    app.router.add_put("/{provider}", webhook)  # MoMo calls back with PUT
    return app


async def webhook(request: web.Request) -> web.Response:
    provider = request.match_info["provider"]
    payments = request.app[PAYMENTS]
    rail = payments.rail(provider)
    if rail is None:
        return web.json_response({"error": f"no payment provider {provider!r}"}, status=404)
    try:
        body = await read_bounded(request, MAX_WEBHOOK_BYTES)
    except BodyTooLargeError:
        return too_large(MAX_WEBHOOK_BYTES)
    callback = CallbackRequest(
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query),
        body=body,
    )
    try:
        answer = await rail.callback(callback)
    except CallbackForgedError as exc:
        log.warning("webhook.forged", provider=provider, reason=str(exc))
        return web.json_response({"error": "signature check failed"}, status=403)
    except CallbackMalformedError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    for notice in answer.notices:
        try:
            applied = await payments.apply_callback(provider, notice)
        except RailUnavailableError as exc:
            log.warning("webhook.verify_unavailable", provider=provider, error=str(exc))
            return web.json_response({"error": "provider unavailable, retry"}, status=503)
        log.info("webhook.received", provider=provider, callback=notice.event_id, applied=applied)
    return web.json_response(answer.body, status=answer.status)
