"""create_app: the gateway's aiohttp application, with every channel mounted as a sub-app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web

import channels.africastalking
import channels.meta
import channels.twilio
import channels.web
import channels.webhooks
from channels.web.simulator import simulator_page
from core.app.api import channel_app, graphql_services, guard_channels, mount_api, open_buckets
from core.app.bootstrap import Services, build_services
from core.app.cors import allow_origins
from core.app.gc_metrics import GcPauses
from core.app.keys import SERVICES
from core.app.metrics import HttpMetrics
from core.app.simulator import SimulatorForwarder, SimulatorInbox
from core.config import Settings
from core.db.migrate import migrated

log = structlog.get_logger(__name__)

# What each SMS provider's sender needs before it sends anything.
SMS_SENDER_VARIABLES = {
    "africastalking": "OMNIROUTE_AFRICASTALKING_API_KEY",
    "twilio": "OMNIROUTE_TWILIO_ACCOUNT_SID and OMNIROUTE_TWILIO_AUTH_TOKEN",
}

# How long /readyz waits for each backend's answer. The checks run together, so /readyz answers
# within this however many backends hang; the readiness probe's timeoutSeconds (2 in
# deploy/k8s) must exceed it, or a hung backend would time the probe out unnamed.
READY_SECONDS = 1.5

CHANNELS = (
    ("/channels/africastalking", channels.africastalking),
    ("/channels/twilio", channels.twilio),
    ("/channels/meta", channels.meta),
    ("/channels/web", channels.web),
)


def create_app(
    settings: Settings, *, build: Callable[[Settings], Services] = build_services
) -> web.Application:
    services = build(settings)
    if settings.sms_provider not in services.senders:
        # order confirmations, delivery codes and receipts would fail in the outbox, unsent
        log.warning(
            "sms.no_sender",
            provider=settings.sms_provider,
            hint=f"set {SMS_SENDER_VARIABLES[settings.sms_provider]} to send SMS",
        )
    token = settings.metrics_token
    metrics = HttpMetrics(
        None if token is None else token.get_secret_value(), closed=settings.production
    )
    if token is None and settings.production:
        log.warning(
            "metrics.closed",
            hint="GET /metrics answers 403: set OMNIROUTE_METRICS_TOKEN to serve it to Prometheus",
        )
    metrics.count_failed_turns(services.pipeline.failures)
    metrics.count_dead_letters(services.bus.dead_letters)
    metrics.count_backlogs(services.db, services.clock)
    metrics.count_deliveries(services.delivery.outcomes)
    metrics.count_delivery_reports(services.notifications.reports)
    if services.workflows is not None:
        metrics.count_workflows(services.workflows)
    if services.payments is not None:
        metrics.count_payments(services.bus)
    app = web.Application(
        client_max_size=settings.max_body_bytes * 128, middlewares=[metrics.middleware]
    )
    app[SERVICES] = services

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await services.start()
        yield
        await services.close()

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(GcPauses(metrics.registry).watching)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics.expose)
    if not settings.production:
        # The simulator signs whatever it is given: a dev and staging tool, not for production.
        app.router.add_get("/", simulator_page)
        SimulatorForwarder(settings).mount(app)
    if settings.env == "dev":
        # It reads anyone's messages (delivery codes too): only on a developer's own gateway,
        # not on a staging one others can reach.
        SimulatorInbox(services.notifications).mount(app)
    buckets = open_buckets(settings, services)
    api = graphql_services(settings, services, buckets)
    context, throttle = guard_channels(settings, services, buckets)
    metrics.count_refused_turns(throttle.refused)
    enabled = settings.enabled_channels
    origins = settings.allowed_origins
    for prefix, provider in CHANNELS:
        if prefix.rsplit("/", 1)[-1] in enabled:
            channel = channel_app(provider, context, api)
            if provider is channels.web:
                allow_origins(channel, origins, ["/messages"])  # a browser's socket needs none
            app.add_subapp(prefix, channel)
    if services.payments is not None:
        app.add_subapp("/webhooks", channels.webhooks.make_app(services.payments))
    mount_api(app, api)
    allow_origins(app, origins, ["/graphql"])
    return app


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Each configured backend, and 503 when any of them is down. The database counts as down
    until `omniroute migrate` has brought it to this code's schema."""
    services = request.app[SERVICES]
    pings: dict[str, Awaitable[bool]] = {
        "database": migrated(services.db),
        "sessions": services.store.ping(),
        "events": services.bus.ping(),
    }
    if services.workflows is not None:
        pings["workflows"] = services.workflows.ping()
    if services.settings.object_store_url.startswith("s3://"):
        pings["objects"] = services.objects.ping()
    answers = await asyncio.gather(*(_within(ping, READY_SECONDS) for ping in pings.values()))
    checks = dict(zip(pings, answers, strict=True))
    ok = all(checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: "up" if up else "down" for name, up in checks.items()},
    }
    return web.json_response(body, status=200 if ok else 503)


async def _within(ping: Awaitable[bool], seconds: float) -> bool:
    """A backend's answer, or down when it has not answered in time."""
    try:
        return await asyncio.wait_for(ping, seconds)
    except TimeoutError:
        return False
