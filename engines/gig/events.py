"""Events of the gig context: a route became a task, a driver took it, arrived, delivered.

The orders' workflows hear them as signals (route planned, driver assigned with the real
driver, driver arrived, delivery confirmed); recorded in the outbox in the transaction of the
change, so a driver's answer on the IVR in one process reaches the workflow from another.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from core.bus import DomainEvent


class TaskStopPayload(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    order_reference: str


class TaskPlanned(DomainEvent):
    topic: ClassVar[str] = "omniroute.gig.task_planned.v1"

    task_id: str
    reference: str
    route_id: str
    stops: tuple[TaskStopPayload, ...]


class TaskAccepted(DomainEvent):
    topic: ClassVar[str] = "omniroute.gig.task_accepted.v1"

    task_id: str
    reference: str
    route_id: str
    worker_id: str
    worker_name: str
    stops: tuple[TaskStopPayload, ...]


class StopArrived(DomainEvent):
    topic: ClassVar[str] = "omniroute.gig.stop_arrived.v1"

    task_id: str
    worker_id: str
    position: int
    order_reference: str


class StopDelivered(DomainEvent):
    topic: ClassVar[str] = "omniroute.gig.stop_delivered.v1"

    task_id: str
    worker_id: str
    position: int
    order_reference: str


class TaskExpired(DomainEvent):
    """A past day's route closed before anyone started it; its orders are free to plan again.

    `reason` is `not_taken` (nobody accepted it) or `not_started` (accepted, no door reached);
    `recalled` names the dispatched orders sent back to packed."""

    topic: ClassVar[str] = "omniroute.gig.task_expired.v1"

    task_id: str
    reference: str
    route_id: str
    worker_id: str | None
    reason: str
    stops: tuple[TaskStopPayload, ...]
    recalled: tuple[str, ...] = ()
