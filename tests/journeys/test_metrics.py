"""GET /metrics: operators see each channel's traffic and latency in the Prometheus format."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

import core.app.server as app_server
from core.app.bootstrap import Services, build_services
from core.app.demo import load_demo
from core.app.metrics import Backlogs
from core.app.server import create_app
from core.bus import EventEnvelope
from core.clock import SteppedClock
from core.config import Settings
from core.ids import SeededIds
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.orders.events import OrderPlaced
from tests.support.graphql import gateway
from tests.support.logs import captured_logs
from tests.support.phone import UssdPhone


def backlog_of(backlogs: Backlogs) -> dict[tuple[str, tuple[str, ...]], float]:
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in backlogs.collect()
        for sample in family.samples
    }


async def samples(
    client: TestClient[web.Request, web.Application],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_ussd_hops_are_counted_by_route_and_status(
    client: TestClient[web.Request, web.Application], ngozi: UssdPhone
) -> None:
    await ngozi.dial()
    await ngozi.press("1")
    found = await samples(client)
    route = "/channels/africastalking/ussd"
    key = (
        "omniroute_http_requests_total",
        (("method", "POST"), ("route", route), ("status", "200")),
    )
    assert found[key] == 2
    latency = ("omniroute_http_request_seconds_count", (("route", route),))
    assert found[latency] == 2


async def test_bad_requests_and_unknown_paths_are_counted_without_their_raw_path(
    client: TestClient[web.Request, web.Application],
) -> None:
    await client.post("/channels/africastalking/ussd", data={"sessionId": "x"})
    await client.get("/wp-admin/setup.php")
    await client.get("/another/random/probe")
    found = await samples(client)
    bad = (
        "omniroute_http_requests_total",
        (("method", "POST"), ("route", "/channels/africastalking/ussd"), ("status", "400")),
    )
    assert found[bad] == 1
    unmatched = (
        "omniroute_http_requests_total",
        (("method", "GET"), ("route", "unmatched"), ("status", "404")),
    )
    assert found[unmatched] == 2
    assert not any("wp-admin" in str(labels) for _name, labels in found)


async def test_garbage_collector_pauses_are_timed_per_generation(
    client: TestClient[web.Request, web.Application],
) -> None:
    before = await samples(client)
    full = ("omniroute_gc_pause_seconds_count", (("generation", "2"),))
    gc.collect()  # a full collection, as the collector itself runs one now and then
    after = await samples(client)
    assert after[full] >= before.get(full, 0) + 1  # the collector may also have run by itself
    spent = ("omniroute_gc_pause_seconds_sum", (("generation", "2"),))
    assert after[spent] > before.get(spent, 0)


async def test_a_websocket_is_counted_but_not_timed_as_a_request(
    client: TestClient[web.Request, web.Application],
) -> None:
    """An app's socket stays open for minutes: as a latency it would swamp the route's p99."""
    await client.post("/graphql", json={"query": "{ __typename }"})
    async with client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await asyncio.sleep(0.3)  # longer than any query here takes
    async with client.ws_connect("/channels/web/ws"):
        pass
    opened = (
        "omniroute_http_requests_total",
        (("method", "GET"), ("route", "/channels/web/ws"), ("status", "101")),
    )
    found = await samples(client)
    for _ in range(50):  # the server counts a socket once its handler has returned
        if opened in found:
            break
        await asyncio.sleep(0.02)
        found = await samples(client)
    subscribed = (
        "omniroute_http_requests_total",
        (("method", "GET"), ("route", "/graphql"), ("status", "101")),
    )
    assert found[subscribed] == 1
    assert found[opened] == 1
    timed = ("omniroute_http_request_seconds_count", (("route", "/graphql"),))
    assert found[timed] == 1  # the query, not the subscription
    slow = ("omniroute_http_request_seconds_bucket", (("le", "0.25"), ("route", "/graphql")))
    assert found[slow] == 1
    assert ("omniroute_http_request_seconds_count", (("route", "/channels/web/ws"),)) not in found


async def test_an_event_set_aside_as_a_dead_letter_is_counted_by_topic_and_group(
    client: TestClient[web.Request, web.Application], services: Services, clock: SteppedClock
) -> None:
    """A subscriber that fails on an event every time stops holding it after its attempts:
    operators must see that it happened (and alert on it), since nothing else shows it."""

    async def broken(envelope: EventEnvelope) -> None:
        raise RuntimeError("bug")

    services.bus.subscribe(OrderPlaced.topic, "test-broken", broken)
    await services.orders.place(
        PlaceOrder(
            customer=Phone("+2348030000001"),
            region=RegionCode.LAGOS,
            lines=(CartLine("DRK-WATR-75", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key="dead-letter-metric",
        )
    )
    for _ in range(services.settings.events_max_attempts):
        await services.relay.drain()
        clock.advance(120)  # past any back-off

    found = await samples(client)
    key = (
        "omniroute_events_dead_lettered_total",
        (("group", "test-broken"), ("topic", OrderPlaced.topic)),
    )
    assert found[key] == 1


async def test_process_memory_cpu_and_python_runtime_are_exported(
    client: TestClient[web.Request, web.Application],
) -> None:
    """What an operator looks at first when a pod misbehaves: its memory, CPU, open files."""
    found = {name for name, _labels in await samples(client)}
    for name in (
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "python_gc_objects_collected_total",
        "python_info",
    ):
        assert name in found


async def test_with_a_metrics_token_a_scrape_without_it_gets_401(
    database_url: str, clock: SteppedClock
) -> None:
    settings = Settings(
        env="test",
        database_url=database_url,
        channels="",
        metrics_token=SecretStr("scrape-me-please"),
        _env_file=None,
    )
    async with gateway(settings, clock) as (client, _services):
        bare = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert bare.status == 401
        assert bare.headers["WWW-Authenticate"].startswith("Bearer")
        assert "omniroute_http_requests" not in await bare.text()
        assert wrong.status == 401
        assert right.status == 200
        assert "omniroute_http_requests_total" in await right.text()
        assert (await client.get("/healthz")).status == 200  # only /metrics is guarded


async def test_in_production_without_a_token_metrics_answers_403_saying_to_set_it(
    database_url: str, clock: SteppedClock
) -> None:
    """A warning at start left the route labels and failure counts open to anyone who could
    reach the pod; now the scrape is refused, with what to set, and the start still says so."""
    settings = Settings(env="production", database_url=database_url, channels="", _env_file=None)
    with captured_logs(app_server) as logs:
        async with gateway(settings, clock) as (client, _services):
            refused = await client.get("/metrics")
            assert refused.status == 403
            reason = await refused.text()
            assert "set OMNIROUTE_METRICS_TOKEN" in reason
            assert "\n" not in reason.strip()
            assert "omniroute_http_requests" not in reason
            assert (await client.get("/healthz")).status == 200
    warned = [line["event"] for line in logs if line["log_level"] == "warning"]
    assert warned.count("metrics.closed") == 1

    with captured_logs(app_server) as logs:
        create_app(settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")}))
    assert "metrics.closed" not in [line["event"] for line in logs]


@pytest.fixture
async def on_any_database(any_database_url: str, clock: SteppedClock) -> AsyncIterator[Services]:
    """The backlog is counted in SQL: on SQLite and on PostgreSQL alike."""
    settings = Settings(env="test", database_url=any_database_url, _env_file=None)
    built = build_services(settings, clock=clock, ids=SeededIds())
    await load_demo(built.db, clock.now())
    yield built
    await built.close()


async def test_unpublished_events_and_unsent_messages_are_counted_with_how_long_they_waited(
    on_any_database: Services, clock: SteppedClock
) -> None:
    """A stopped outbox relay or SMS sender keeps every request answered 200: only these show
    the order's events and the retailer's SMS piling up, and for how long (alerted on)."""
    services = on_any_database
    backlogs = Backlogs(services.db, clock)
    await backlogs.refresh()
    assert backlog_of(backlogs) == {
        ("omniroute_outbox_unsent_events", ()): 0,
        ("omniroute_outbox_oldest_unsent_seconds", ()): 0,
    }
    await services.orders.place(
        PlaceOrder(
            customer=Phone("+2348030000001"),
            region=RegionCode.LAGOS,
            lines=(CartLine("DRK-WATR-75", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key="backlog-metric",
        )
    )
    for n in (1, 2):
        await services.notifications.queue(
            OutboundMessage(
                provider="africastalking",
                kind=ChannelKind.SMS,
                to=Phone("+2348030000001"),
                reply=Reply("Order W62ACJ placed."),
                dedupe_key=f"backlog-metric-{n}",
            )
        )
    (given_up, *_) = await services.notifications.due()
    await services.notifications.mark_failed_permanently(given_up, "blacklisted")
    clock.advance(300)  # the relay has not run for five minutes

    await backlogs.refresh()
    found = backlog_of(backlogs)
    assert found[("omniroute_outbox_unsent_events", ())] >= 1
    assert found[("omniroute_outbox_oldest_unsent_seconds", ())] == 300
    assert (
        found[("omniroute_deliveries_queued", ("africastalking", "sms"))] == 1
    )  # not the lost one
    # Claimed by a sender that never sent it: waiting since it was queued, not since its lease.
    assert found[("omniroute_deliveries_oldest_queued_seconds", ("africastalking", "sms"))] == 300

    await services.relay.drain()
    await backlogs.refresh()
    found = backlog_of(backlogs)
    assert found[("omniroute_outbox_unsent_events", ())] == 0
    assert found[("omniroute_outbox_oldest_unsent_seconds", ())] == 0


async def test_a_message_the_provider_reports_failed_is_counted_once_though_reported_twice(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    """Africa's Talking took the SMS (the attempt counts it sent), then could not deliver it:
    only its delivery report says so, and it sends that again until answered."""
    await services.notifications.queue(
        OutboundMessage(
            provider="africastalking",
            kind=ChannelKind.SMS,
            to=Phone("+2348030000001"),
            reply=Reply("Order W62ACJ placed."),
            dedupe_key="report-metric",
        )
    )
    (delivery,) = await services.notifications.due()
    await services.notifications.mark_sent(delivery.id, "ATXid_1e7e3d91fff6f45e959d3887c28b766c")
    report = (
        "id=ATXid_1e7e3d91fff6f45e959d3887c28b766c&status=Failed&phoneNumber=%2B2348030000001"
        "&networkCode=62130&failureReason=AbsentSubscriber&retryCount=2"
    )
    for _ in range(2):
        response = await client.post(
            "/channels/africastalking/sms/delivery",
            data=report,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 200

    found = await samples(client)
    failed = (
        "omniroute_delivery_reports_total",
        (("kind", "sms"), ("provider", "africastalking"), ("status", "failed")),
    )
    assert found[failed] == 1
