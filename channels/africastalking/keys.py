"""Typed keys of the Africa's Talking sub-app."""

from collections.abc import Callable

from aiohttp import web
from pydantic import SecretStr

from channels.africastalking.allowlist import Networks
from core.messages import Handler, QueueOutbound, ReportDelivery

HANDLE: web.AppKey[Handler] = web.AppKey("handle")
QUEUE_OUTBOUND: web.AppKey[QueueOutbound] = web.AppKey("queue_outbound")
REPORT_DELIVERY: web.AppKey[ReportDelivery] = web.AppKey("report_delivery")
TRANSLATE: web.AppKey[Callable[..., str]] = web.AppKey("translate")
CALLBACK_TOKEN: web.AppKey[SecretStr | None] = web.AppKey("callback_token")
ALLOWED_NETWORKS: web.AppKey[Networks | None] = web.AppKey("allowed_networks")
PUBLIC_URL: web.AppKey[str | None] = web.AppKey("public_url")
MAX_BODY = web.AppKey("max_body", int)
