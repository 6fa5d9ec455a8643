"""GET /metrics: what operators graph and alert on, in the Prometheus text format.

One registry per app (not prometheus_client's global one), so two apps in one process — the
tests, the benchmark — never share or double-register counters. Requests are labelled by the
route's template (`/channels/africastalking/ussd`), never by the raw path, so a scanner probing
random URLs cannot blow up the label set.

A WebSocket (status 101) is counted but not timed: its "latency" is how long the app stayed
connected, minutes or hours, and /graphql serves both queries and subscriptions, so one
subscription put the queries' p99 in the +Inf bucket.

A channel answers a broken backend with a polite apology and HTTP 200 (providers retry or show a
network error otherwise), so the status codes cannot show that outage:
`omniroute_pipeline_failures_total{kind}` counts those turns.

Our own registry means prometheus_client's default process collectors are not in it unless
registered here: `process_*` (CPU, resident memory, open files), `python_gc_*` and
`python_info`, what an operator looks at first when a pod misbehaves.

What is waiting to leave is read from the database at each scrape (`Backlogs`): the events the
outbox relay has not published yet and how long the oldest has waited (the relay's lag), the
SMS and WhatsApp messages queued for their provider and how long the oldest has waited. Nothing
else shows a relay or a sender that has stopped: the requests keep being answered 200 meanwhile.

With `OMNIROUTE_METRICS_TOKEN` set, a scrape must carry `Authorization: Bearer <token>` (401
otherwise): the route labels and failure counts map the deployment for whoever can reach it. In
production without one, /metrics answers 403 saying to set it, rather than answer anyone.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterator, Mapping

import structlog
from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from core.app.workflows import WorkflowRuntime
from core.bus import EventBus, EventEnvelope
from core.bus.tables import outbox
from core.clock import Clock
from core.db import Database
from engines.notifications import DeliveryStatus
from engines.notifications.tables import deliveries
from engines.payments.events import PaymentIntentChanged

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNMATCHED = "unmatched"
SWITCHING_PROTOCOLS = 101
# USSD gateways give up after a few seconds; the buckets resolve the range where that matters.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A scrape waits this long for what it reads from the database and Temporal; Prometheus' own
# scrape timeout is 10 s.
BACKLOG_SECONDS = 2.0
QUEUED = DeliveryStatus.QUEUED.value


class HttpMetrics:
    def __init__(self, token: str | None = None, *, closed: bool = False) -> None:
        """`closed`: no token was set where one is required (production), so no scrape is
        answered; a warning at start alone left the deployment's map open to anyone."""
        self.registry = CollectorRegistry(auto_describe=True)
        self._expected = None if token is None else f"Bearer {token}".encode()
        self._closed = closed and token is None
        self._read_at_scrape: list[Backlogs | WorkflowEnds] = []
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "omniroute_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "omniroute_http_request_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # The labelled children, kept: `labels()` takes a lock and checks every label per call.
        self._counted: dict[tuple[str, str, str], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route = _route_of(request)
            key = (route, request.method, str(status))
            counted = self._counted.get(key)
            if counted is None:
                counted = self._counted[key] = self.requests.labels(*key)
            counted.inc()
            if status != SWITCHING_PROTOCOLS:
                timed = self._timed.get(route)
                if timed is None:
                    timed = self._timed[route] = self.latency.labels(route)
                timed.observe(time.perf_counter() - started)

    def count_failed_turns(self, failures: Mapping[str, int]) -> None:
        """The pipeline's failed turns by channel kind (`Pipeline.failures`), read at scrape."""
        self.registry.register(FailedTurns(failures))

    def count_refused_turns(self, refused: Mapping[str, int]) -> None:
        """Turns the per-phone rate limit refused (`PhoneThrottle.refused`), read at scrape."""
        self.registry.register(RefusedTurns(refused))

    def count_payments(self, bus: EventBus) -> None:
        """Every payment's changes of status, by provider and direction, from its own events."""
        outcomes = PaymentOutcomes()
        bus.subscribe(
            PaymentIntentChanged.topic, PaymentOutcomes.GROUP, outcomes.on_changed, from_end=True
        )
        self.registry.register(outcomes)

    def count_deliveries(self, outcomes: Mapping[tuple[str, str, str], int]) -> None:
        """Each attempt to send an SMS or WhatsApp message (`DeliveryWorker.outcomes`)."""
        self.registry.register(DeliveryAttempts(outcomes))

    def count_delivery_reports(self, reports: Mapping[tuple[str, str, str], int]) -> None:
        """What the providers reported later of the messages they took
        (`NotificationService.reports`), read at scrape."""
        self.registry.register(DeliveryReports(reports))

    def count_dead_letters(self, dead_letters: Mapping[tuple[str, str], int]) -> None:
        """Events set aside after their last attempt (`EventBus.dead_letters`), read at scrape."""
        self.registry.register(DeadLetters(dead_letters))

    def count_backlogs(self, db: Database, clock: Clock) -> None:
        """The outbox's unsent events and the messages waiting for a provider, read at scrape."""
        self._read_at_scrape.append(Backlogs(db, clock))
        self.registry.register(self._read_at_scrape[-1])

    def count_workflows(self, runtime: WorkflowRuntime) -> None:
        """The gateway's workflows that ended unfinished, as Temporal counts them, at scrape."""
        self._read_at_scrape.append(WorkflowEnds(runtime))
        self.registry.register(self._read_at_scrape[-1])

    async def expose(self, request: web.Request) -> web.Response:
        if self._closed:
            raise web.HTTPForbidden(
                text="/metrics is closed in production without a token: set OMNIROUTE_METRICS_TOKEN"
            )
        if self._expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                raise web.HTTPUnauthorized(
                    text="/metrics needs Authorization: Bearer <OMNIROUTE_METRICS_TOKEN>",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        await asyncio.gather(*(read.refresh() for read in self._read_at_scrape))
        response = web.Response(body=generate_latest(self.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response


class FailedTurns:
    """A collector over the pipeline's own tally: core stays free of prometheus_client."""

    def __init__(self, failures: Mapping[str, int]) -> None:
        self._failures = failures

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_pipeline_failures",
            "Turns answered with the apology because a backend failed, by channel kind",
            labels=["kind"],
        )
        for kind, count in sorted(self._failures.items()):
            family.add_metric([kind], count)
        yield family


class RefusedTurns:
    """The channels' rate-limit refusals: a polite closing reply with HTTP 200 (providers show a
    non-200 as a network error), so the status codes cannot show them either."""

    def __init__(self, refused: Mapping[str, int]) -> None:
        self._refused = refused

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_rate_limited_turns",
            "Channel turns refused by the per-phone rate limit, by channel kind",
            labels=["kind"],
        )
        for kind, count in sorted(self._refused.items()):
            family.add_metric([kind], count)
        yield family


class PaymentOutcomes:
    """What became of the payments on each rail: collected, failed, cancelled, reversed…

    One subscriber group for every gateway, as the other subscribers: each change is counted by
    one of them (graph their sum), and a rail whose payments fail or stop coming back shows. The
    group begins at the topic's end on its first deploy: read from the topic's beginning, the
    counter would leap by every payment the topic retains, and `increase()` with it.
    """

    GROUP = "payment-metrics"

    def __init__(self) -> None:
        self._counts: Tally[tuple[str, str, str]] = Tally()

    async def on_changed(self, envelope: EventEnvelope) -> None:
        event = PaymentIntentChanged.model_validate(envelope.data)
        self._counts[(event.provider, event.direction, event.status)] += 1

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_payments",
            "Payments that reached a status, by provider (rail), direction and status",
            labels=["provider", "direction", "status"],
        )
        for labels, count in sorted(self._counts.items()):
            family.add_metric(list(labels), count)
        yield family


class DeliveryAttempts:
    """The senders' attempts: a provider refusing SMS or a sender left unconfigured shows here
    long before a retailer calls to ask where her order confirmation went."""

    def __init__(self, outcomes: Mapping[tuple[str, str, str], int]) -> None:
        self._outcomes = outcomes

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_delivery_attempts",
            "Attempts to send an SMS or WhatsApp message, by provider, kind and outcome "
            "(sent, refused, retrying, gave_up)",
            labels=["provider", "kind", "outcome"],
        )
        for labels, count in sorted(self._outcomes.items()):
            family.add_metric(list(labels), count)
        yield family


class DeliveryReports:
    """The providers' delivery reports: a message the provider accepted and then could not
    deliver (a phone off for days, a number barred, WhatsApp's window closed by its count) is
    sent as far as the attempts can tell; only its report says the retailer never got it."""

    def __init__(self, reports: Mapping[tuple[str, str, str], int]) -> None:
        self._reports = reports

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_delivery_reports",
            "Providers' delivery reports that changed a message's status, by provider, kind "
            "and status (delivered, failed); a report sent again is counted once",
            labels=["provider", "kind", "status"],
        )
        for labels, count in sorted(self._reports.items()):
            family.add_metric(list(labels), count)
        yield family


class DeadLetters:
    """A collector over the event bus's tally of dead letters, by topic and subscriber group."""

    def __init__(self, dead_letters: Mapping[tuple[str, str], int]) -> None:
        self._dead_letters = dead_letters

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "omniroute_events_dead_lettered",
            "Events a subscriber group failed on every attempt, set aside in <topic>.dlq",
            labels=["topic", "group"],
        )
        for (topic, group), count in sorted(self._dead_letters.items()):
            family.add_metric([topic, group], count)
        yield family


class Backlogs:
    """What the database holds that has not left yet, counted at each scrape (every pod reads the
    same tables: graph their max, not their sum). A database that does not answer in time leaves
    these out of that scrape rather than holding the rest of it; `/readyz` names the outage."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._families: list[GaugeMetricFamily] = []

    async def refresh(self) -> None:
        try:
            self._families = await asyncio.wait_for(self._count(), BACKLOG_SECONDS)
        except (TimeoutError, OSError, SQLAlchemyError) as exc:
            log.warning("metrics.backlog_unavailable", error=repr(exc))
            self._families = []

    async def _count(self) -> list[GaugeMetricFamily]:
        unsent = GaugeMetricFamily(
            "omniroute_outbox_unsent_events",
            "Events recorded with their change and not yet published by the outbox relay",
        )
        lag = GaugeMetricFamily(
            "omniroute_outbox_oldest_unsent_seconds",
            "How long the oldest unpublished event has waited for the relay (0 when none waits)",
        )
        waiting = GaugeMetricFamily(
            "omniroute_deliveries_queued",
            "SMS and WhatsApp messages waiting for their (next) attempt, by provider and kind",
            labels=["provider", "kind"],
        )
        oldest_queued = GaugeMetricFamily(
            "omniroute_deliveries_oldest_queued_seconds",
            "How long the oldest SMS or WhatsApp message still waiting to be sent has waited "
            "since it was queued, by provider and kind",
            labels=["provider", "kind"],
        )
        async with self._db.transaction() as s:
            count, oldest = (
                await s.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(
                        outbox.c.sent_at.is_(None)
                    )
                )
            ).one()
            # Only the queue: failed rows are kept for good, and counting them at every scrape
            # would grow with the years (their attempts are counted as they happen instead).
            queued = (
                await s.execute(
                    select(
                        deliveries.c.provider,
                        deliveries.c.kind,
                        func.count(),
                        func.min(deliveries.c.created_at),
                    )
                    .where(deliveries.c.status == QUEUED)
                    .group_by(deliveries.c.provider, deliveries.c.kind)
                )
            ).all()
        now = self._clock.now()
        unsent.add_metric([], count)
        waited = 0.0 if oldest is None else (now - oldest).total_seconds()
        lag.add_metric([], max(0.0, waited))
        for provider, kind, n, first in sorted(queued):
            waiting.add_metric([provider, kind], n)
            oldest_queued.add_metric([provider, kind], max(0.0, (now - first).total_seconds()))
        return [unsent, lag, waiting, oldest_queued]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families


class WorkflowEnds:
    """The workflows on the gateway's task queue that ended without finishing, as Temporal's
    visibility counts them (within the namespace's retention): an order whose workflow failed or
    timed out stays where it was, unpicked or undelivered, and nothing else says so. Terminated
    ones are an operator's doing, shown beside them. Temporal not answering in time leaves the
    gauge out of that scrape (`/readyz` names it)."""

    NAME = "omniroute_workflows_ended"
    ENDS = (("failed", "Failed"), ("timed_out", "TimedOut"), ("terminated", "Terminated"))

    def __init__(self, runtime: WorkflowRuntime) -> None:
        self._runtime = runtime
        self._families: list[GaugeMetricFamily] = []

    async def refresh(self) -> None:
        try:
            self._families = [await asyncio.wait_for(self._count(), BACKLOG_SECONDS)]
        except (TimeoutError, RPCError, RuntimeError) as exc:  # RuntimeError: not started yet
            log.warning("metrics.workflows_unavailable", error=repr(exc))
            self._families = []

    async def _count(self) -> GaugeMetricFamily:
        fulfilment = self._runtime.fulfilment
        queue = fulfilment.task_queue
        counts = await asyncio.gather(
            *(
                fulfilment.client.count_workflows(
                    f'TaskQueue = "{queue}" AND ExecutionStatus = "{status}"'
                )
                for _label, status in self.ENDS
            )
        )
        family = GaugeMetricFamily(
            self.NAME,
            "Workflows on the gateway's task queue that ended unfinished (failed, timed_out, "
            "terminated), within Temporal's retention",
            labels=["status"],
        )
        for (label, _status), counted in zip(self.ENDS, counts, strict=True):
            family.add_metric([label], counted.count)
        return family

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families


def _route_of(request: web.Request) -> str:
    """The matched route's template (aiohttp prefixes a sub-app's routes); never the raw path."""
    info = request.match_info
    resource = info.route.resource if info.http_exception is None else None
    return UNMATCHED if resource is None else resource.canonical
