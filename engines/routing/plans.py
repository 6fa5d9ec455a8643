"""Stored route plans: every planning run of a region's day is kept as a revision, each order
with its route, position and status, so that re-planning starts from the plan that stands and
an operator can see what was planned when.

A stop's status says how free the planner still is with it: `planned` stops (on a route nobody
has taken) may move to another route or vehicle; `in_progress` stops (on a route offered to or
taken by a driver) and `served` stops (delivered, or handed to an operator at the door) are
fixed; `unassigned` orders carry the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.ids import IdGenerator
from engines.routing.tables import route_plan_claims, route_plan_stops, route_plans

SAVE_ATTEMPTS = 4
CLAIM_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class PlanClaim:
    """A planning run's hold on its region (see `RoutePlanStore.claim`)."""

    region: str
    day: date
    holder: uuid.UUID
    claimed_at: datetime
    expires_at: datetime


class PlanStopStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SERVED = "served"
    UNASSIGNED = "unassigned"

    @property
    def fixed(self) -> bool:
        """Whether re-planning must leave the stop where it is."""
        return self in (PlanStopStatus.IN_PROGRESS, PlanStopStatus.SERVED)


@dataclass(frozen=True, slots=True)
class PlanStop:
    order_reference: str
    status: PlanStopStatus
    route_id: str | None = None
    task_reference: str | None = None
    vehicle_id: str | None = None
    position: int | None = None  # 1-based within its route
    reason: str | None = None  # why an unassigned order is left out


@dataclass(frozen=True, slots=True)
class StoredPlan:
    id: uuid.UUID
    region: str
    day: date
    revision: int
    created_at: datetime
    stops: tuple[PlanStop, ...]

    def routes(self) -> dict[str, tuple[PlanStop, ...]]:
        """Route id -> its stops in visiting order."""
        found: dict[str, list[PlanStop]] = {}
        for stop in self.stops:
            if stop.route_id is not None:
                found.setdefault(stop.route_id, []).append(stop)
        return {
            route: tuple(sorted(stops, key=lambda s: s.position or 0))
            for route, stops in found.items()
        }

    def same_as(self, stops: Sequence[PlanStop]) -> bool:
        key = lambda s: s.order_reference  # noqa: E731
        return sorted(self.stops, key=key) == sorted(stops, key=key)


class RoutePlanStore:
    def __init__(self, db: Database, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def latest(self, region: str, day: date) -> StoredPlan | None:
        async with self._db.transaction() as s:
            row = (
                await s.execute(
                    select(route_plans)
                    .where(route_plans.c.region == region, route_plans.c.day == day)
                    .order_by(route_plans.c.revision.desc())
                    .limit(1)
                )
            ).first()
            return None if row is None else await _plan(s, row)

    async def revisions(self, region: str, day: date) -> list[StoredPlan]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(route_plans)
                .where(route_plans.c.region == region, route_plans.c.day == day)
                .order_by(route_plans.c.revision)
            )
            return [await _plan(s, r) for r in rows.all()]

    async def save(
        self, region: str, day: date, stops: Sequence[PlanStop], now: datetime
    ) -> StoredPlan:
        """Store the day's next revision (a concurrent planner's revision is never overwritten:
        the revision number is unique, and a clash takes the next one)."""
        for attempt in range(SAVE_ATTEMPTS):
            try:
                return await self._db.retrying(lambda s: self._save_in(s, region, day, stops, now))
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def claim(
        self, region: str, day: date, now: datetime, lease: timedelta
    ) -> tuple[bool, PlanClaim]:
        """Claim the region for one planning run: (True, the claim) when this run may plan,
        (False, the standing claim) when another run is planning it. The database is the
        arbiter (the region is the key of the claim row): two runs at once, from any process,
        never both get it. A claim left by a run that died is taken over once past its lease."""
        mine = PlanClaim(region, day, self._ids.uuid(), now, now + lease)
        values = {
            "day": day,
            "holder": mine.holder,
            "claimed_at": now,
            "expires_at": mine.expires_at,
        }
        for _ in range(CLAIM_ATTEMPTS):
            try:
                async with self._db.transaction() as s:
                    await s.execute(route_plan_claims.insert().values(region=region, **values))
                return True, mine
            except IntegrityError:
                pass
            async with self._db.transaction() as s:
                taken = await s.execute(
                    update(route_plan_claims)
                    .where(
                        route_plan_claims.c.region == region,
                        route_plan_claims.c.expires_at <= now,
                    )
                    .values(**values)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return True, mine
                row = (
                    await s.execute(
                        select(route_plan_claims).where(route_plan_claims.c.region == region)
                    )
                ).one_or_none()
            if row is not None:
                return False, PlanClaim(region, row.day, row.holder, row.claimed_at, row.expires_at)
            # released between the two looks: try to claim it again
        raise AssertionError("a plan claim neither taken nor held")

    async def release(self, claim: PlanClaim) -> None:
        """The run is over (done or failed): the region may be planned again."""
        async with self._db.transaction() as s:
            await s.execute(
                delete(route_plan_claims).where(
                    route_plan_claims.c.region == claim.region,
                    route_plan_claims.c.holder == claim.holder,
                )
            )

    async def _save_in(
        self, s: AsyncSession, region: str, day: date, stops: Sequence[PlanStop], now: datetime
    ) -> StoredPlan:
        last = (
            await s.execute(
                select(func.max(route_plans.c.revision)).where(
                    route_plans.c.region == region, route_plans.c.day == day
                )
            )
        ).scalar_one()
        plan = StoredPlan(self._ids.uuid(), region, day, (last or 0) + 1, now, tuple(stops))
        await s.execute(
            route_plans.insert().values(
                id=plan.id,
                region=region,
                day=day,
                revision=plan.revision,
                created_at=now,
            )
        )
        if stops:
            await s.execute(
                route_plan_stops.insert(),
                [
                    {
                        "plan_id": plan.id,
                        "order_reference": st.order_reference,
                        "route_id": st.route_id,
                        "task_reference": st.task_reference,
                        "vehicle_id": st.vehicle_id,
                        "position": st.position,
                        "status": st.status.value,
                        "reason": st.reason,
                    }
                    for st in stops
                ],
            )
        return plan


async def _plan(s: AsyncSession, row: Any) -> StoredPlan:
    stops = await s.execute(
        select(route_plan_stops)
        .where(route_plan_stops.c.plan_id == row.id)
        .order_by(
            route_plan_stops.c.route_id,
            route_plan_stops.c.position,
            route_plan_stops.c.order_reference,
        )
    )
    return StoredPlan(
        id=row.id if isinstance(row.id, uuid.UUID) else uuid.UUID(str(row.id)),
        region=row.region,
        day=row.day,
        revision=row.revision,
        created_at=row.created_at,
        stops=tuple(
            PlanStop(
                order_reference=r.order_reference,
                status=PlanStopStatus(r.status),
                route_id=r.route_id,
                task_reference=r.task_reference,
                vehicle_id=r.vehicle_id,
                position=r.position,
                reason=r.reason,
            )
            for r in stops
        ),
    )
