"""On a real Temporal dev server: orders from the real USSD endpoint become visible workflows,
a worker killed mid-order is replaced and the order completes with every effect once, and the
embedded server keeps its workflows across a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.app.temporal_dev import embedded_temporal
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.fulfilment.gateway import TemporalFulfilment
from engines.fulfilment.model import (
    CancelReason,
    DeliveryConfirmed,
    DriverAssigned,
    RoutePlanned,
    Stage,
)
from engines.fulfilment.workflows import order_workflow_id
from engines.orders import OrderStatus
from tests.integration.workflows.conftest import available, place, texts_to, until_stage
from tests.support.demo_template import seed_demo
from tests.support.phone import UssdPhone
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def real_settings(settings: Settings, temporal_server: TemporalServer, task_queue: str) -> Settings:
    return settings.model_copy(
        update={
            "temporal_address": temporal_server.address,
            "temporal_task_queue": task_queue,
            "temporal_worker": True,
        }
    )


@pytest.fixture
async def real_services(real_settings: Settings) -> AsyncIterator[Services]:
    clock = SteppedClock()
    built = build_services(real_settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built
    await built.close()


async def test_an_order_placed_over_ussd_is_a_visible_workflow_that_an_operator_can_cancel(
    real_services: Services,
) -> None:
    app = create_app(real_services.settings, build=lambda _s: real_services)
    async with TestClient(TestServer(app)) as http:
        ngozi = UssdPhone(http, "+2348030000001")
        before = await available(real_services)
        await ngozi.dial()
        screen = await ngozi.walk("1", "1", "1", "3", "3", "1", "1", "1")
        found = re.search(r"Order (\w+) placed", screen.text)
        assert found, screen.text
        reference = found.group(1)
        assert real_services.workflows is not None
        fulfilment = real_services.workflows.fulfilment
        handle = fulfilment.order(reference)
        await _until_started(fulfilment.client, reference)
        await until_stage(handle, Stage.IN_WAVE)
        ready = await http.get("/readyz")
        assert (await ready.json())["checks"]["workflows"] == "up"
        listed = [
            w
            async for w in fulfilment.client.list_workflows(
                f'WorkflowId = "{order_workflow_id(reference)}"'
            )
        ]
        assert [w.workflow_type for w in listed] == ["OrderFulfilment"]

        # An operator cancels the order outside the workflow: it hears and unwinds.
        await real_services.orders.advance(reference, OrderStatus.CANCELLED)
        result = await asyncio.wait_for(handle.result(), 30)
    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.OPERATOR)
    assert await available(real_services) == before
    # told who stopped it: she did not ask for it
    assert any("is cancelled: our team stopped it." in t for t in await texts_to(real_services))


async def _until_started(client: Client, reference: str, timeout: float = 30.0) -> None:
    """The gateway starts the workflow when the outbox relays OrderPlaced."""
    handle = client.get_workflow_handle(order_workflow_id(reference))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await handle.describe()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


class WorkerProcess:
    """`omniroute worker` as its own process, so it can be killed like a crashed pod."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")},
            "OMNIROUTE_ENV": "test",
            "OMNIROUTE_DATABASE_URL": settings.database_url,
            "OMNIROUTE_TEMPORAL_ADDRESS": str(settings.temporal_address),
            "OMNIROUTE_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        }
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "core.app.cli", "worker"],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(15)


@pytest.fixture
def worker(real_settings: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(real_settings, tmp_path / "worker.log")
    yield process
    process.stop()
    print((tmp_path / "worker.log").read_text()[-6000:])  # shown when the test fails


async def test_a_killed_worker_is_replaced_and_the_order_completes_with_every_effect_once(
    real_settings: Settings, worker: WorkerProcess
) -> None:
    clock = SteppedClock()
    settings = real_settings.model_copy(update={"temporal_worker": False})
    services = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(services.db, clock.now())
    client = await Client.connect(
        str(settings.temporal_address), data_converter=pydantic_data_converter
    )
    fulfilment = TemporalFulfilment(client, settings.temporal_task_queue)
    try:
        order = await place(services)
        worker.start()
        await fulfilment.start_order(order.reference)
        handle = fulfilment.order(order.reference)
        await until_stage(handle, Stage.IN_WAVE, timeout=60)
        await fulfilment.wave_picked(order.reference)
        await until_stage(handle, Stage.PICKED)

        worker.kill()  # mid-order: the next steps' signals arrive while no worker runs
        await fulfilment.route_planned(order.reference, RoutePlanned("R-9"))
        await fulfilment.driver_assigned(order.reference, DriverAssigned("D-9"))
        worker.start()

        await until_stage(handle, Stage.OUT_FOR_DELIVERY, timeout=60)
        await fulfilment.delivery_confirmed(order.reference, DeliveryConfirmed("1234"))
        result = await asyncio.wait_for(handle.result(), 60)

        assert result.stage is Stage.SETTLED
        assert (await services.orders.get(order.reference)).status is OrderStatus.DELIVERED
        async with services.db.transaction() as s:
            changes = [
                row.envelope["data"]["status"]
                for row in await s.execute(
                    select(outbox).where(outbox.c.topic.like("%order_status_changed%"))
                )
            ]
        assert sorted(changes) == sorted(
            ["confirmed", "picking", "packed", "dispatched", "delivered"]
        )
        texts = await texts_to(services)
        assert sum("on its way" in t for t in texts) == 1
        assert sum("is delivered" in t for t in texts) == 1
    finally:
        await services.close()


async def test_the_embedded_temporal_keeps_workflows_across_a_restart(
    settings: Settings, tmp_path: Path, unused_tcp_port: int
) -> None:
    local = settings.model_copy(update={"temporal_dev_port": unused_tcp_port})
    with embedded_temporal(local, tmp_path / "var") as running:
        assert running.temporal_worker
        client = await Client.connect(
            str(running.temporal_address), data_converter=pydantic_data_converter
        )
        # No worker: the order waits in the task queue, as if the gateway stopped mid-order.
        await TemporalFulfilment(client, "nobody-listens").start_order("KEPT42")
    assert (tmp_path / "var" / "temporal.db").exists()
    with embedded_temporal(local, tmp_path / "var") as running:
        client = await Client.connect(
            str(running.temporal_address), data_converter=pydantic_data_converter
        )
        described = await client.get_workflow_handle(order_workflow_id("KEPT42")).describe()
        assert described.workflow_type == "OrderFulfilment"


async def test_the_nightly_settlement_is_a_schedule_that_runs_the_settlement(
    real_services: Services,
) -> None:
    # The schedule settles yesterday by the cluster's clock; the services' clock must have
    # reached today too, or yesterday would be a day not over yet and refused.
    clock = real_services.clock
    assert isinstance(clock, SteppedClock)
    clock.advance(max(0.0, (dt.datetime.now(dt.UTC) - clock.now()).total_seconds()))
    await real_services.start()
    try:
        assert real_services.workflows is not None
        fulfilment = real_services.workflows.fulfilment
        schedule = fulfilment.client.get_schedule_handle(fulfilment.settlement_schedule_id)
        described = await schedule.describe()
        assert described.schedule.action.workflow == "DailySettlement"  # type: ignore[attr-defined]
        assert [
            (c.hour[0].start, c.minute[0].start) for c in described.schedule.spec.calendars
        ] == [(1, 0)]
        await schedule.trigger()
        deadline = asyncio.get_running_loop().time() + 30
        while not (recent := (await schedule.describe()).info.recent_actions):
            assert asyncio.get_running_loop().time() < deadline, "the schedule never ran"
            await asyncio.sleep(0.2)
        run = recent[0].action
        report = await fulfilment.client.get_workflow_handle(
            run.workflow_id, run_id=run.first_execution_run_id
        ).result()
        assert report["orders"] == 0
    finally:
        await real_services.close()


async def test_an_order_workflow_that_ended_unfinished_shows_on_metrics(
    real_settings: Settings,
) -> None:
    """An order whose workflow ended before its delivery stays unpicked or undelivered, and
    nothing else shows it: the operators' dashboard counts such ends from Temporal."""
    # No worker: the order's workflow waits in its task queue until it is ended.
    settings = real_settings.model_copy(update={"temporal_worker": False})
    services = build_services(settings, clock=SteppedClock(), ids=RandomIds())
    app = create_app(settings, build=lambda _s: services)
    async with TestClient(TestServer(app)) as http:
        assert services.workflows is not None
        fulfilment = services.workflows.fulfilment
        assert await ended(http) == {"failed": 0, "timed_out": 0, "terminated": 0}
        await fulfilment.start_order("ENDED1")
        await fulfilment.order("ENDED1").terminate("an operator stopped it by hand")
        deadline = asyncio.get_running_loop().time() + 10
        while (counted := await ended(http))["terminated"] == 0:  # visibility catches up
            assert asyncio.get_running_loop().time() < deadline, counted
            await asyncio.sleep(0.1)
        assert counted == {"failed": 0, "timed_out": 0, "terminated": 1}


async def ended(http: TestClient[Any, Any]) -> dict[str, float]:
    scraped = await (await http.get("/metrics")).text()
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "omniroute_workflows_ended"
    }


def test_the_worker_command_needs_a_cluster_address() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    done = subprocess.run(
        [sys.executable, "-m", "core.app.cli", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "OMNIROUTE_TEMPORAL_ADDRESS" in done.stderr
