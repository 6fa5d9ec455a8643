"""Service creation's way in: the registry behind the ServiceCreation workflow, and running it.

With workflows on (OMNIROUTE_TEMPORAL_ADDRESS set) a publish is the `ServiceCreation` workflow
on Temporal; with them off it is the same steps in this process, through the same ports and
under the same effect keys, so an operator is told once either way.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from engines.fulfilment.model import (
    ServiceCreationInput,
    ServiceCreationResult,
    simulate_service,
    simulation_problems,
    validate_service,
)
from engines.fulfilment.ports import OperatorNotifier
from engines.fulfilment.workflows import ServiceCreationWorkflow, service_workflow_id
from engines.registry import ServiceCodeTakenError, ServiceRegistry, VersionTakenError

# How long `services publish` waits for a Temporal worker to run the workflow.
WORKFLOW_WAIT = timedelta(seconds=60)


class RegistryPublisher:
    """The workflow's ServicePublisher: engines.registry, whose refusals become problems."""

    def __init__(self, registry: ServiceRegistry) -> None:
        self._registry = registry

    async def publish(self, creation: ServiceCreationInput, *, key: str) -> tuple[str, ...]:
        # The registry is idempotent by content (the same definition again is no change), so
        # a retried step needs no effect record of its own.
        del key
        try:
            await self._registry.publish(creation.definition, by=creation.operator)
        except (VersionTakenError, ServiceCodeTakenError) as refused:
            return (str(refused),)
        return ()


async def create_in_process(
    creation: ServiceCreationInput, registry: RegistryPublisher, operators: OperatorNotifier
) -> ServiceCreationResult:
    """The ServiceCreation workflow's steps, for a gateway run without workflows."""
    definition = creation.definition
    workflow_id = service_workflow_id(definition.name, definition.version)
    problems = validate_service(definition)
    if not problems:
        problems = simulation_problems(definition, simulate_service(definition))
    if not problems:
        problems = await registry.publish(creation, key=f"{workflow_id}:publish_service")
    if problems:
        return ServiceCreationResult(definition.name, definition.version, False, problems)
    if creation.operator is not None:
        await operators.service_published(
            creation.operator, definition, key=f"{workflow_id}:notify_operator"
        )
    return ServiceCreationResult(definition.name, definition.version, True)


class NoWorkerError(Exception):
    """No Temporal worker ran the workflow in time."""


async def create_on_temporal(
    client: Client, task_queue: str, creation: ServiceCreationInput
) -> ServiceCreationResult:
    definition = creation.definition
    workflow_id = service_workflow_id(definition.name, definition.version)
    try:
        handle = await client.start_workflow(
            ServiceCreationWorkflow.run, creation, id=workflow_id, task_queue=task_queue
        )
    except WorkflowAlreadyStartedError:
        # Someone is publishing this very version now: theirs is the answer.
        handle = client.get_workflow_handle_for(ServiceCreationWorkflow.run, workflow_id)
    try:
        return await asyncio.wait_for(handle.result(), WORKFLOW_WAIT.total_seconds())
    except TimeoutError:
        raise NoWorkerError(
            f"no Temporal worker ran {workflow_id} on task queue {task_queue} within "
            f"{int(WORKFLOW_WAIT.total_seconds())}s: start `omniroute worker` (it stays queued)"
        ) from None
