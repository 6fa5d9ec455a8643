"""Publishing an operator's service: the ServiceCreation workflow on Temporal, and the same
steps in process when workflows are off, both into the service registry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.cli import main
from core.app.service_creation import RegistryPublisher, create_in_process, create_on_temporal
from core.app.workflows import make_worker
from core.phone import Phone
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.model import (
    ServiceCreationInput,
    ServiceCreationResult,
    ServiceDefinition,
    ServiceState,
)
from engines.fulfilment.workflows import service_workflow_id
from engines.registry import ServiceRegistry
from tests.integration.workflows.conftest import texts_to
from tests.support.servers import TemporalServer

OPERATOR = "+2348030000002"
EXAMPLE = Path(__file__).parents[3] / "deploy" / "services" / "order-status.json"
Publish = Callable[[ServiceCreationInput], Awaitable[ServiceCreationResult]]


def airtime(*, prompt: str = "Buy airtime?", code: str | None = "*384*77#") -> ServiceDefinition:
    return ServiceDefinition(
        name="airtime",
        version=1,
        start="menu",
        service_code=code,
        states=(
            ServiceState(
                "menu",
                {"en": prompt, "sw": "Nunua muda wa maongezi?"},
                {"1": "done"},
                {"1": {"en": "Yes", "sw": "Ndiyo"}},
            ),
            ServiceState("done", {"en": "Done", "sw": "Imekamilika"}, end=True),
        ),
    )


@pytest.fixture(params=["temporal", "in_process"])
def publish(
    request: pytest.FixtureRequest,
    services: Services,
    activities: FulfilmentActivities,
) -> Publish:
    """Publish as `omniroute services publish` does, with workflows on or off."""
    if request.param == "in_process":

        async def here(creation: ServiceCreationInput) -> ServiceCreationResult:
            ports = activities.ports
            registry = RegistryPublisher(ServiceRegistry(services.db, services.clock))
            return await create_in_process(creation, registry, ports.operators)

        return here
    skipping: WorkflowEnvironment = request.getfixturevalue("skipping")
    queue = f"test-{uuid.uuid4().hex[:8]}"

    async def on_temporal(creation: ServiceCreationInput) -> ServiceCreationResult:
        async with make_worker(skipping.client, queue, activities):
            return await create_on_temporal(skipping.client, queue, creation)

    return on_temporal


async def test_a_published_version_never_changes_and_publishing_it_again_is_no_change(
    services: Services, publish: Publish
) -> None:
    registry = ServiceRegistry(services.db, services.clock)
    first = await publish(ServiceCreationInput(airtime(), operator=OPERATOR))
    kept = await registry.version("airtime", 1)
    again = await publish(ServiceCreationInput(airtime(), operator=OPERATOR))
    changed = await publish(ServiceCreationInput(airtime(prompt="Buy data?"), operator=OPERATOR))

    assert first.published
    assert again.published  # the same definition: nothing to refuse, nothing changed
    assert not changed.published
    assert changed.problems == ("airtime v1 is already published with a different definition",)
    assert await registry.version("airtime", 1) == kept
    assert kept is not None
    assert kept.definition == airtime()
    assert kept.published_by == OPERATOR
    told = [t for t in await texts_to(services, Phone(OPERATOR)) if "airtime" in t]
    assert len(told) == 1  # the operator is told once, when it went live


async def test_a_service_code_another_service_answers_on_is_refused(
    services: Services, publish: Publish
) -> None:
    await publish(ServiceCreationInput(airtime()))
    other = ServiceDefinition(
        name="data",
        version=1,
        start="menu",
        service_code="*384*77#",
        states=(ServiceState("menu", {"en": "Data", "sw": "Data"}, end=True),),
    )
    refused = await publish(ServiceCreationInput(other))
    assert not refused.published
    assert refused.problems == ("service code *384*77# is already answered by airtime",)
    assert await ServiceRegistry(services.db, services.clock).answering("*384*77#") is not None
    assert [s.name for s in await ServiceRegistry(services.db, services.clock).latest()] == [
        "airtime"
    ]


@pytest.mark.real
async def test_services_publish_runs_the_workflow_on_a_real_temporal_server(
    services: Services,
    activities: FulfilmentActivities,
    temporal_server: TemporalServer,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`omniroute services publish` as an operator runs it against a cluster: the workflow on
    the server, run by a worker, and the code answering the service once it says so."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_ADDRESS", temporal_server.address)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_NAMESPACE", temporal_server.namespace)
    monkeypatch.setenv("OMNIROUTE_TEMPORAL_TASK_QUEUE", task_queue)
    client = await Client.connect(
        temporal_server.address,
        namespace=temporal_server.namespace,
        data_converter=pydantic_data_converter,
    )
    publish = ["services", "publish", str(EXAMPLE), "--operator", OPERATOR]

    async with make_worker(client, task_queue, activities):
        # The command runs its own event loop (asyncio.run), as from a shell: in a thread.
        assert await asyncio.to_thread(main, publish) == 0
        assert capsys.readouterr().out == "published order-status v1\n"
        assert await asyncio.to_thread(main, publish) == 0  # again: no change
        assert capsys.readouterr().out == "published order-status v1\n"

    workflow = client.get_workflow_handle(service_workflow_id("order-status", 1))
    assert (await workflow.describe()).status is WorkflowExecutionStatus.COMPLETED
    answering = await ServiceRegistry(services.db, services.clock).answering("*384*77#")
    assert answering is not None
    assert (answering.name, answering.version, answering.published_by) == (
        "order-status",
        1,
        OPERATOR,
    )
    told = [t for t in await texts_to(services, Phone(OPERATOR)) if "order-status" in t]
    assert len(told) == 1  # told once, though published twice
