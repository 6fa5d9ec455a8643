"""Publishing an operator's service: the ServiceCreation workflow on Temporal, and the same
steps in process when workflows are off, both into the service registry."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
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
from engines.registry import ServiceRegistry
from tests.integration.workflows.conftest import texts_to

OPERATOR = "+2348030000002"
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
