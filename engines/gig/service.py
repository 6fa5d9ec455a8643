"""Gig use cases: onboard workers, keep their shifts, turn routes into tasks, offer tasks to the
best worker, take proofs of delivery, pay for them.

Every state change is a compare-and-set on the row it changes, so two callers racing (two
workers accepting, a worker accepting while the offer expires) leave exactly one winner.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus.outbox import record
from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.objects import ObjectStore
from core.phone import Phone
from core.region import RegionCode, day_bounds, local_date
from core.region import region as region_of
from engines.gig.allocation import TaskCandidate, WorkerCandidate, allocate
from engines.gig.events import (
    StopArrived,
    StopDelivered,
    TaskAccepted,
    TaskExpired,
    TaskPlanned,
    TaskStopPayload,
)
from engines.gig.model import (
    CODE_DIGITS,
    DOCUMENT_TYPES,
    DRIVER_PROBLEMS,
    ESCALATIONS,
    LIVE,
    MAX_CODE_ATTEMPTS,
    MAX_DOCUMENT_BYTES,
    RESOLUTIONS,
    TARIFFS,
    CodeCheck,
    DeliveryResult,
    DeliveryRoute,
    Document,
    DocumentKind,
    DriverBusyError,
    Earning,
    EarningKind,
    Escalation,
    EscalationError,
    ExpiryReason,
    GeoPoint,
    GigError,
    Incident,
    IncidentKind,
    InvalidWorkerError,
    Offer,
    OfferClosedError,
    OfferStatus,
    Onboard,
    Payout,
    PayoutStatus,
    ProblemReport,
    Proof,
    Resolution,
    Shift,
    StopStatus,
    Task,
    TaskStateError,
    TaskStatus,
    TaskStop,
    UnknownTaskError,
    UnknownWorkerError,
    Worker,
    WorkerStatus,
    checked_bank,
    code_digest,
    local_shift,
    required_documents,
    total,
    validate,
)
from engines.gig.ports import GigNotifier
from engines.gig.repository import SqlGigRepository
from engines.orders import OrderError, OrderService, OrderStatus, UnknownOrderError

log = structlog.get_logger(__name__)

REFERENCE_ATTEMPTS = 8
# A driver may still be at doors after local midnight: a route he started is handed to an
# operator only once its day has been over this long (04:00 local the next morning).
NIGHT_GRACE = timedelta(hours=4)
SETTLE_ATTEMPTS = 3
# A shift set for some weekdays is put on those of the next four weeks (`set_shifts`); run
# again to set the weeks after.
ROSTER_DAYS = 28
MAX_SHIFT = timedelta(hours=14)
# An order in one of these was released to the warehouse and is not packed yet: a route
# carrying it is not offered until it is.
TO_BE_PACKED = frozenset({OrderStatus.CONFIRMED, OrderStatus.PICKING})
# Why an open task is not on offer (`GigService.waiting_for`): its region's day has not come,
# its goods are still to be packed, no driver on shift now could take it (his shift covering it,
# his vehicle big enough), or every such driver is busy (on a route or an offer, unavailable)
# or said no to it.
WAITING_DAY = "its_day"
WAITING_PACKING = "packing"
WAITING_DRIVER_ON_SHIFT = "driver_on_shift"
WAITING_FREE_DRIVER = "free_driver"


@dataclass(frozen=True, slots=True)
class DayEarnings:
    total: Money
    stops: int


@dataclass(frozen=True, slots=True)
class OffShift:
    """A worker on no shift now, so offered no route (`GigService.off_shift`)."""

    next_start: datetime | None  # when his next shift starts, if later today (his region's day)


@dataclass(frozen=True, slots=True)
class TaskEarnings:
    """What one route paid the driver over a period: its proved stops, km and bonus."""

    reference: str
    departure: datetime
    total: Money
    stops: int


@dataclass(frozen=True, slots=True)
class PeriodEarnings:
    """What the driver earned on the region's days `first` to `last`, both included, route
    by route (newest departure first)."""

    first: date
    last: date
    total: Money
    stops: int
    tasks: tuple[TaskEarnings, ...]


class GigService:
    def __init__(  # noqa: PLR0917 - the ports a composition root hands over, in one order
        self,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        objects: ObjectStore,
        notifier: GigNotifier,
        orders: OrderService,
        *,
        offer_ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._objects = objects
        self._notifier = notifier
        self._orders = orders
        self._offer_ttl = offer_ttl
        # One offer solve at a time (it covers every region's drivers and routes at once, and
        # takes the machine's cores for seconds): see `allocate`.
        self._allocating = asyncio.Lock()

    # --- workers ------------------------------------------------------------------------------

    async def onboard(self, form: Onboard) -> Worker:
        """Register a worker (pending until the required documents are in); once per phone."""
        clean = validate(form)
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            existing = await repo.worker_by_phone(clean.phone)
            if existing is not None:
                return existing
            worker_id = self._ids.uuid()
            await repo.add_worker(worker_id, clean, self._clock.now())
            worker = await repo.worker(worker_id)
        assert worker is not None
        return worker

    async def worker(self, worker_id: uuid.UUID) -> Worker:
        async with self._db.transaction() as s:
            found = await SqlGigRepository(s).worker(worker_id)
        if found is None:
            raise UnknownWorkerError(str(worker_id))
        return found

    async def worker_by_phone(self, phone: Phone) -> Worker | None:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).worker_by_phone(phone)

    async def carrier(self, order_reference: str) -> Worker | None:
        """The driver whose route carried the order to its door (None: no driver's route did,
        or nobody took it): the one who took a pay-on-delivery order's cash there."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            found = await repo.stop_of_order(order_reference)
            if found is None or found[0].worker_id is None:
                return None
            return await repo.worker(found[0].worker_id)

    async def set_bank_account(self, phone: Phone, bank_code: str, number: str) -> Worker:
        """Where the worker's payouts go from now on (checked for the worker's region)."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            worker = await repo.worker_by_phone(phone)
            if worker is None:
                raise UnknownWorkerError(phone.e164)
            bank = checked_bank(worker.region, bank_code, number)
            await repo.update_worker(worker.id, bank_code=bank.bank_code, bank_account=bank.number)
            return replace(worker, bank=bank)

    async def is_driver(self, phone: Phone) -> bool:
        """A registered worker who is not suspended: their calls go to the drivers' IVR."""
        worker = await self.worker_by_phone(phone)
        return worker is not None and worker.status is not WorkerStatus.SUSPENDED

    async def upload_document(
        self, worker_id: uuid.UUID, kind: DocumentKind, content: bytes, content_type: str
    ) -> Document:
        """Keep a document in the object store; the worker turns active when all are in."""
        extension = DOCUMENT_TYPES.get(content_type)
        if extension is None:
            raise InvalidWorkerError("content_type", f"one of {', '.join(DOCUMENT_TYPES)}")
        if not 0 < len(content) <= MAX_DOCUMENT_BYTES:
            raise InvalidWorkerError("content", f"1 byte to {MAX_DOCUMENT_BYTES // 1024} KiB")
        worker = await self.worker(worker_id)
        doc_id = self._ids.uuid()
        key = await self._objects.put(
            f"workers/{worker.id}/{kind.value}-{doc_id}.{extension}", content, content_type
        )
        document = Document(
            doc_id, worker.id, kind, key, content_type, len(content), self._clock.now()
        )
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            await repo.add_document(document)
            have = {d.kind for d in await repo.documents(worker.id)}
            if worker.status is WorkerStatus.PENDING and required_documents(worker.vehicle) <= have:
                await repo.update_worker(worker.id, status=WorkerStatus.ACTIVE.value)
        return document

    async def documents(self, worker_id: uuid.UUID) -> list[Document]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).documents(worker_id)

    async def missing_documents(self, worker_id: uuid.UUID) -> list[DocumentKind]:
        """What a pending worker has still to hand in before a route can be offered to him
        (nothing for one already active), in DocumentKind's order."""
        worker = await self.worker(worker_id)
        if worker.status is not WorkerStatus.PENDING:
            return []
        have = {d.kind for d in await self.documents(worker_id)}
        needed = required_documents(worker.vehicle)
        return [kind for kind in DocumentKind if kind in needed and kind not in have]

    async def off_shift(self, worker_id: uuid.UUID) -> OffShift | None:
        """Whether the worker is on no shift now, and so is offered no route (`allocate` offers
        only to workers on shift): None when he is on one; else when his next shift starts, if
        that is later today in his region."""
        worker = await self.worker(worker_id)
        now = self._clock.now()
        async with self._db.transaction() as s:
            shifts = await SqlGigRepository(s).shifts(worker_id)
        if any(sh.covers(now) for sh in shifts):
            return None
        today = local_date(worker.region, now)
        later = [
            sh.starts_at
            for sh in shifts
            if sh.starts_at > now and local_date(worker.region, sh.starts_at) == today
        ]
        return OffShift(min(later, default=None))

    async def add_shift(
        self, worker_id: uuid.UUID, starts_at: datetime, ends_at: datetime
    ) -> Shift:
        _check_shift(starts_at, ends_at)
        await self.worker(worker_id)
        shift = Shift(self._ids.uuid(), worker_id, starts_at, ends_at)
        async with self._db.transaction() as s:
            await SqlGigRepository(s).add_shift(shift)
        return shift

    async def set_shifts(
        self,
        phone: Phone,
        starts: time,
        ends: time,
        first: date | None = None,
        weekdays: frozenset[int] | None = None,
    ) -> tuple[Worker, list[Shift]]:
        """Put the worker on shift from `starts` to `ends` in his region's time (ending at or
        before it starts: the next morning, a night shift) on the day `first` (default: today
        there), or, with `weekdays` (0 Monday ... 6 Sunday), on those of the `ROSTER_DAYS` days
        from it. A day set replaces the shifts he had starting that day, so a run repeated
        changes nothing; a day whose shift is over already is left out. Refused, nothing
        changed: an unknown phone (UnknownWorkerError), a shift over 14 hours, or none left
        to set (InvalidWorkerError)."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            worker = await repo.worker_by_phone(phone)
            if worker is None:
                raise UnknownWorkerError(phone.e164)
            region, now = worker.region, self._clock.now()
            start = first or local_date(region, now)
            days = [start]
            if weekdays is not None:
                days = [
                    day
                    for day in (start + timedelta(days=n) for n in range(ROSTER_DAYS))
                    if day.weekday() in weekdays
                ]
            shifts = []
            for day in days:
                starts_at, ends_at = local_shift(region, day, starts, ends)
                _check_shift(starts_at, ends_at)
                if ends_at > now:
                    shifts.append(Shift(self._ids.uuid(), worker.id, starts_at, ends_at))
            if not shifts:
                raise InvalidWorkerError("date", f"that shift is over already ({start})")
            for shift in shifts:
                await repo.drop_shifts_starting(
                    worker.id, *day_bounds(region, local_date(region, shift.starts_at))
                )
                await repo.add_shift(shift)
        return worker, shifts

    async def upcoming_shifts(self, phone: Phone) -> tuple[Worker, list[Shift]]:
        """The worker's shifts not over yet that start within `ROSTER_DAYS`, soonest first."""
        worker = await self.worker_by_phone(phone)
        if worker is None:
            raise UnknownWorkerError(phone.e164)
        now = self._clock.now()
        async with self._db.transaction() as s:
            shifts = await SqlGigRepository(s).shifts(worker.id)
        horizon = now + timedelta(days=ROSTER_DAYS)
        return worker, [sh for sh in shifts if sh.ends_at > now and sh.starts_at < horizon]

    async def set_available(
        self, worker_id: uuid.UUID, available: bool, position: GeoPoint | None = None
    ) -> Worker:
        await self.worker(worker_id)
        values: dict[str, object] = {"available": available}
        if position is not None:
            values.update(lat=position.lat, lon=position.lon)
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            await repo.update_worker(worker_id, **values)
            found = await repo.worker(worker_id)
        assert found is not None
        return found

    async def crew(
        self, region: RegionCode, starts: datetime, ends: datetime
    ) -> list[tuple[Worker, Shift]]:
        """Active workers of the region with a shift overlapping [starts, ends), each with
        their longest such shift: the fleet a route plan for that period can count on."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            found: list[tuple[Worker, Shift]] = []
            for worker in await repo.workers(region):
                if worker.status is not WorkerStatus.ACTIVE:
                    continue
                shifts = [
                    sh
                    for sh in await repo.shifts(worker.id)
                    if sh.starts_at < ends and sh.ends_at > starts
                ]
                if shifts:
                    found.append((worker, max(shifts, key=lambda sh: sh.ends_at - sh.starts_at)))
        return found

    # --- tasks and offers ---------------------------------------------------------------------

    async def create_task(self, route: DeliveryRoute) -> Task:
        """One task per planned route (the same route id gives back the same task)."""
        if not route.stops:
            raise GigError(f"route {route.route_id} has no stops")
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            existing = await repo.task_by_route(route.route_id)
            if existing is not None:
                return existing
            task = Task(
                id=self._ids.uuid(),
                reference=await self._free_reference(repo),
                route_id=route.route_id,
                region=route.region,
                depot=route.depot,
                departure=route.departure,
                status=TaskStatus.OPEN,
                worker_id=None,
                stops=tuple(
                    TaskStop(
                        i,
                        st.order_reference,
                        st.customer,
                        st.address,
                        st.point,
                        st.units,
                        st.leg_km,
                    )
                    for i, st in enumerate(route.stops, start=1)
                ),
                created_at=self._clock.now(),
                returns_at=route.returns_at,
            )
            await repo.add_task(task)
            await record(
                s,
                TaskPlanned(
                    event_id=self._ids.uuid(),
                    occurred_at=task.created_at,
                    aggregate_id=str(task.id),
                    task_id=str(task.id),
                    reference=task.reference,
                    route_id=task.route_id,
                    stops=_stops(task),
                ),
            )
        return task

    async def withdraw(self, task_id: uuid.UUID) -> bool:
        """Take back a task nobody holds (open: no offer out, no driver on it), when its route
        is re-planned. False when it was offered or taken meanwhile: then it stands."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).move_task(
                task_id, TaskStatus.OPEN, TaskStatus.CANCELLED
            )

    async def drop_order(self, order_reference: str, *, returned: bool = False) -> Task | None:
        """An order cancelled (or `returned`, brought back) before its door: its stop comes off
        its route, so its customer gets no delivery code and nobody is paid for it, and the
        driver on the route is told by SMS (that it was returned, when it was) and hears the
        stop after it next. The other stops keep their order and numbers. A route left with no
        stop is cancelled (its offer closed, the driver offered or driving it told); one whose
        other doors are all done is finished. The stop after it is paid for the drive from the
        stop before it (or from the depot); but a door the driver reached was driven to: that
        drive is paid (its kilometres), and the next leg still starts there.

        The task as it is now, or None when the order was on no open stop of a live route (not
        planned, at its door already settled, or taken off already: a redelivered event
        changes nothing)."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            found = await repo.stop_of_order(order_reference)
            if found is None:
                return None
            task = await repo.lock_task(found[0].id)
            stop = found[1]
            if (
                task is None
                or task.status not in LIVE
                or not await repo.remove_stop(task.id, stop.position)
            ):
                return None
            left = [st for st in task.stops if st.position != stop.position]
            after = next((st for st in left if st.position > stop.position), None)
            at = next((st for st in task.stops if st.position == stop.position), stop)
            if task.status is TaskStatus.ASSIGNED and task.worker_id is not None and at.reached:
                # he drove to that door, whatever became of its order: the drive is paid, and
                # the next leg still starts there
                tariff = TARIFFS[region_of(task.region).currency]
                _per_stop, per_km = tariff.for_stop(at.leg_km)
                await self._earn(
                    repo,
                    task,
                    task.worker_id,
                    at.position,
                    kind=EarningKind.DISTANCE,
                    amount=per_km,
                )
            elif after is not None and after.open:
                # the stop after it is driven to from the stop before it now (or from the
                # depot), and paid for that drive
                before = [st.point for st in left if st.position < stop.position]
                await repo.update_stop(
                    task.id,
                    after.position,
                    [StopStatus.PENDING, StopStatus.ARRIVED],
                    leg_km=(before[-1] if before else task.depot).leg_km(after.point),
                )
            told = task.worker_id
            if not left:
                await repo.move_task(task.id, task.status, TaskStatus.CANCELLED)
                for offer in await repo.offers(OfferStatus.OPEN, task_id=task.id):
                    await repo.close_offer(offer.id, OfferStatus.EXPIRED)
                    told = offer.worker_id
            elif task.worker_id is not None and not any(st.open for st in left):
                await self._maybe_complete(repo, task, task.worker_id, stop.position)
            now = await repo.task(task.id)
            assert now is not None
            worker = await repo.worker(told) if told is not None else None
            # Queued with the stop's removal: a failure here leaves the stop on its route for
            # the redelivered event, which a stop already gone would find nothing to do with.
            if worker is not None and now.status is TaskStatus.CANCELLED:
                await self._notifier.task_cancelled(s, worker, now, stop, returned=returned)
            elif worker is not None and task.status is TaskStatus.ASSIGNED:
                await self._notifier.stop_cancelled(s, worker, now, stop, returned=returned)
            # The route may have been taken just before: its code, queued then, is not sent
            # now. Withdrawn with the stop's removal, as the driver's SMS above.
            await self._notifier.delivery_code_withdrawn(s, stop.order_reference)
        log.info("gig.stop_cancelled", order=order_reference, task=task.reference, left=len(left))
        return now

    async def task(self, task_id: uuid.UUID) -> Task:
        async with self._db.transaction() as s:
            found = await SqlGigRepository(s).task(task_id)
        if found is None:
            raise UnknownTaskError(str(task_id))
        return found

    async def tasks(self, *statuses: TaskStatus) -> list[Task]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).tasks(*statuses)

    async def offers(self, task_id: uuid.UUID) -> list[Offer]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).offers(task_id=task_id)

    async def expire_offers(self) -> int:
        """Offers past their time are closed and their tasks go back to the pool."""
        now = self._clock.now()
        expired = 0
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            for offer in await repo.offers(OfferStatus.OPEN):
                if offer.expires_at <= now and await repo.close_offer(
                    offer.id, OfferStatus.EXPIRED
                ):
                    await repo.move_task(offer.task_id, TaskStatus.OFFERED, TaskStatus.OPEN)
                    expired += 1
        return expired

    async def expire_stale_tasks(self) -> list[Task]:
        """Close the routes of a day that is over (the region's calendar day) that nobody
        started: not taken (open or offered) or taken with no door reached. Each is EXPIRED, its
        open offer closed, and a TaskExpired event says why; the orders of a taken one were
        dispatched with goods that never left the dock, so they are packed again. Their orders
        are then free for the next plan, which routes them without picking them again.

        Without this, such a task stays live for ever: its orders ride it and today's route at
        once, and its driver, busy on it, is offered nothing again. Nothing is paid for it (pay
        is per door delivered).

        A route started and not finished is handed to an operator (`_hand_over`) once its day
        has been over for `NIGHT_GRACE` (a driver still at doors just after midnight keeps
        them): its open doors are escalated, as after three wrong codes, and resolved by hand."""
        now = self._clock.now()
        expired: list[Task] = []
        async with self._db.transaction() as s:
            over = [
                t
                for t in await SqlGigRepository(s).tasks(*LIVE)
                if local_date(t.region, t.departure) < local_date(t.region, now)
            ]
        for task in over:
            if task.started:
                if local_date(task.region, task.departure) < local_date(
                    task.region, now - NIGHT_GRACE
                ):
                    await self._hand_over(task, now)
                continue
            async with self._db.transaction() as s:
                closed = await self._expire(s, task, now)
            if closed is not None:
                expired.append(closed)
                log.info(
                    "gig.task_expired", task=task.reference, status=task.status, route=task.route_id
                )
        return expired

    async def _hand_over(self, task: Task, now: datetime) -> list[Incident]:
        """A route whose day is over with doors still open (the driver's phone died, the van
        broke down, the day simply ran out): each open door is escalated with a
        ROUTE_UNFINISHED incident, the route closes (no completion bonus: it was not finished)
        and its driver is free; the operator gets one alert for the route and settles each
        order with `omniroute deliveries resolve` (`escalations` lists them)."""
        incidents: list[Incident] = []
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            fresh = await repo.lock_task(task.id)
            if fresh is None or fresh.status is not TaskStatus.ASSIGNED or not fresh.worker_id:
                return []
            for stop in (st for st in fresh.stops if st.open):
                if await repo.update_stop(
                    fresh.id,
                    stop.position,
                    [StopStatus.PENDING, StopStatus.ARRIVED],
                    status=StopStatus.ESCALATED.value,
                ):
                    incident = Incident(
                        self._ids.uuid(),
                        fresh.id,
                        fresh.worker_id,
                        stop.position,
                        IncidentKind.ROUTE_UNFINISHED,
                        now,
                    )
                    await repo.add_incident(incident)
                    incidents.append(incident)
            if not incidents:
                return []
            await self._maybe_complete(repo, fresh, fresh.worker_id, incidents[-1].position or 0)
            # One alert per route (at its first open door), not one per door; queued with the
            # hand-over, as after three wrong codes.
            await self._tell_operator(s, repo, incidents, fresh, fresh.worker_id)
        log.warning(
            "gig.route_unfinished",
            task=fresh.reference,
            doors=[i.position for i in incidents],
            driver=str(fresh.worker_id),
        )
        return incidents

    async def escalations(self) -> list[Escalation]:
        """The deliveries waiting for an operator (three wrong codes, a problem the driver
        reported at the door, or a route not finished)."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).escalated()

    async def escalated_before(self, cutoff: datetime) -> list[str]:
        """The orders whose delivery has waited for an operator since before `cutoff`, the
        longest waiting first (then in the routes' order)."""
        waiting = sorted(
            (e for e in await self.escalations() if e.since < cutoff), key=lambda e: e.since
        )
        return [e.order_reference for e in waiting]

    async def _expire(self, s: AsyncSession, task: Task, now: datetime) -> Task | None:
        repo = SqlGigRepository(s)
        # Locked: a driver arriving at a door right now either did (started: not expired) or
        # waits and finds the route expired (`_hold_own_task`).
        fresh = await repo.lock_task(task.id)
        if fresh is None or fresh.started:
            return None  # a door was reached since the look: the driver is out after all
        task = fresh
        # compare-and-set: a driver accepting the offer at this moment wins, or this does
        if task.status not in LIVE or not await repo.move_task(
            task.id, task.status, TaskStatus.EXPIRED
        ):
            return None
        for offer in await repo.offers(OfferStatus.OPEN, task_id=task.id):
            await repo.close_offer(offer.id, OfferStatus.EXPIRED)
        taken = task.status is TaskStatus.ASSIGNED
        reason = ExpiryReason.NOT_STARTED if taken else ExpiryReason.NOT_TAKEN
        recalled: list[str] = []
        if taken:
            for stop in task.stops:
                why = f"task {task.reference} expired: {reason.value}"
                if await self._orders.recall_in(s, stop.order_reference, why):
                    recalled.append(stop.order_reference)
        await record(
            s,
            TaskExpired(
                event_id=self._ids.uuid(),
                occurred_at=now,
                aggregate_id=str(task.id),
                task_id=str(task.id),
                reference=task.reference,
                route_id=task.route_id,
                worker_id=str(task.worker_id) if task.worker_id else None,
                reason=reason.value,
                stops=_stops(task),
                recalled=tuple(recalled),
            ),
        )
        return replace(task, status=TaskStatus.EXPIRED)

    async def allocate(
        self, *, calling: uuid.UUID | None = None, on_line: uuid.UUID | None = None
    ) -> list[Offer]:
        """Offer open tasks to the best free worker (see `allocation`); one offer per task and
        per worker at a time, never again to a worker who declined or let it lapse.

        `calling`: a worker asking for work himself (on the line). An offer the sweeper made him
        while he was not there lapsed unheard, so a task of it still open may go to him now:
        the lapse barred him from it only for the sweeper (the route moves on to the next best
        worker), not for ever, which left a route nobody else could take unoffered all day.

        Only the tasks of the region's day (its local calendar day, now) are offered, and only
        to a worker of that region on shift now whose shift lasts until the route is planned to
        be back (`offerable`; a driver whose shift ends mid-route is not sent): a task
        planned for tomorrow waits in the pool until its day comes (the offer sweeper), and one
        of a day that is over is closed if nobody started it (`expire_stale_tasks`).

        A driver offered a route is texted how to take it (`GigNotifier.route_offered`),
        unless he is on the line (`calling`, or `on_line`: the driver who just declined),
        hearing the offer already: else it lapsed unheard after the offer's minutes.

        One solve at a time: a call arriving while one runs waits for it, and a driver it
        offered a route meanwhile (`calling`) hears that offer, with no second solve for him."""
        waited = self._allocating.locked()
        async with self._allocating:
            if waited and calling is not None:
                async with self._db.transaction() as s:
                    if await SqlGigRepository(s).offers(OfferStatus.OPEN, worker_id=calling):
                        return []
            return await self._allocate(calling, on_line)

    async def _allocate(self, calling: uuid.UUID | None, on_line: uuid.UUID | None) -> list[Offer]:
        await self.expire_stale_tasks()
        await self.expire_offers()
        now = self._clock.now()
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            tasks = [
                t
                for t in await repo.tasks(TaskStatus.OPEN)
                if local_date(t.region, t.departure) == local_date(t.region, now)
            ]
            if not tasks:
                return []
            busy = {t.worker_id for t in await repo.tasks(TaskStatus.ASSIGNED)}
            busy |= {o.worker_id for o in await repo.offers(OfferStatus.OPEN)}
            shifts = await repo.shifts_at(now)
            workers = [
                w
                for w in await repo.workers()
                if w.status is WorkerStatus.ACTIVE
                and w.available
                and w.id in shifts
                and w.id not in busy
            ]
            days = {local_date(w.region, now) for w in workers}
            by_day = {day: await repo.earned_on(day) for day in days}
            earned = {
                w.id: by_day[local_date(w.region, now)].get(w.id, Decimal(0)) for w in workers
            }
            excluded = {
                (o.worker_id, o.task_id)
                for o in await repo.offers(OfferStatus.DECLINED, OfferStatus.EXPIRED)
                if o.status is OfferStatus.DECLINED or o.worker_id != calling
            }
            excluded |= {
                (w.id, t.id)
                for w in workers
                for t in tasks
                if not offerable(t, w.region, shifts[w.id], now)
            }
        # A route leaves with its goods: it waits in the pool until the warehouse has packed
        # every order on it (the sweeper, or the order's workflow asking for a driver, offers
        # it then). Offered earlier, a driver took it and rang at doors with goods never
        # picked, and the orders never left "picking".
        tasks = [t for t in tasks if await self._packed(t)]
        # The solve takes up to seconds: in a thread, so that the event loop (every channel's
        # requests) goes on meanwhile; CP-SAT lets go of the GIL while it searches.
        plan = await asyncio.to_thread(
            allocate,
            [
                WorkerCandidate(
                    w.id,
                    w.position,
                    w.vehicle.capacity_units,
                    w.rating,
                    earned.get(w.id, Decimal(0)),
                    w.region.value,
                )
                for w in workers
            ],
            [TaskCandidate(t.id, t.first_point, t.units) for t in tasks],
            frozenset(excluded),
        )
        by_worker = {w.id: w for w in workers}
        by_task = {t.id: t for t in tasks}
        made: list[Offer] = []
        for task_id, worker_id in plan.items():
            async with self._db.transaction() as s:
                repo = SqlGigRepository(s)
                if not await repo.move_task(task_id, TaskStatus.OPEN, TaskStatus.OFFERED):
                    continue  # someone else offered it meanwhile
                # Looked at again under the worker's lock: another run (a replica, the
                # sweeper, a decline) may have offered him a route since the first look, or he
                # accepted one. One offer per driver, and none to a driver on a route.
                await repo.lock_worker(worker_id)
                if await repo.offers(OfferStatus.OPEN, worker_id=worker_id) or await repo.tasks(
                    TaskStatus.ASSIGNED, worker_id=worker_id
                ):
                    await repo.move_task(task_id, TaskStatus.OFFERED, TaskStatus.OPEN)
                    continue
                offer = Offer(
                    self._ids.uuid(),
                    task_id,
                    worker_id,
                    OfferStatus.OPEN,
                    now,
                    now + self._offer_ttl,
                )
                await repo.add_offer(offer)
                if worker_id not in (calling, on_line):
                    await self._notifier.route_offered(
                        s, by_worker[worker_id], by_task[task_id], offer
                    )
                made.append(offer)
        return made

    async def waiting_for(self, task: Task) -> str | None:
        """Why `task` is not on offer now (see WAITING_*), or None when it is not open."""
        if task.status is not TaskStatus.OPEN:
            return None
        now = self._clock.now()
        if local_date(task.region, task.departure) > local_date(task.region, now):
            return WAITING_DAY
        if not await self._packed(task):
            return WAITING_PACKING
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            shifts = await repo.shifts_at(now)
            able = [
                w
                for w in await repo.workers(task.region)
                if w.status is WorkerStatus.ACTIVE
                and w.id in shifts
                and w.vehicle.capacity_units >= task.units
                and offerable(task, w.region, shifts[w.id], now)
            ]
        return WAITING_FREE_DRIVER if able else WAITING_DRIVER_ON_SHIFT

    async def open_offer(self, worker_id: uuid.UUID) -> tuple[Offer, Task] | None:
        """The worker's live offer, if any (a lapsed one is expired first)."""
        await self.expire_offers()
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            offers = await repo.offers(OfferStatus.OPEN, worker_id=worker_id)
            if not offers:
                return None
            task = await repo.task(offers[0].task_id)
        assert task is not None
        return offers[0], task

    async def accept(self, offer_id: uuid.UUID) -> Task:
        """The worker takes the route: the customers get their codes, the orders are dispatched.

        A driver already on a route for an overlapping time (`_overlapping`) is refused with
        DriverBusyError: the offer is closed as declined and the route goes to another driver."""
        now = self._clock.now()
        codes: list[tuple[TaskStop, str]] = []
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            offer = await repo.offer(offer_id)
            if offer is None or offer.status is not OfferStatus.OPEN:
                raise OfferClosedError(str(offer_id))
            if offer.expires_at <= now:
                raise OfferClosedError(f"{offer_id} expired")
            # Two accepts of one driver at once (two offers made in a race, two phones) go one
            # after the other under his lock, and the second sees the route the first took.
            await repo.lock_worker(offer.worker_id)
            busy = await self._busy_with(repo, offer, now)
            taken = None
            if busy is None:
                taken = await self._take(s, repo, offer, codes, now)
                # Queued with the acceptance: a failure here leaves the offer open, so the
                # driver's retry takes the route and queues the codes once (a code queued after
                # the commit could be lost, the retry then refused as the offer is closed).
                for stop, code in codes:
                    await self._notifier.delivery_code(
                        s, stop.customer, stop.order_reference, code, taken[1]
                    )
                # Dispatched with the acceptance too, for the same reason: a failure after the
                # commit left the orders behind and the driver's retry was refused.
                for stop, _code in codes:
                    await self._move_order_in(s, stop.order_reference, OrderStatus.DISPATCHED)
            elif await repo.close_offer(offer_id, OfferStatus.DECLINED):
                await repo.move_task(offer.task_id, TaskStatus.OFFERED, TaskStatus.OPEN)
        if taken is None:
            assert busy is not None
            log.info("gig.accept_refused", offer=str(offer_id), busy_with=busy.reference)
            raise DriverBusyError(str(offer_id), busy.reference)
        return taken[0]

    @staticmethod
    async def _busy_with(repo: SqlGigRepository, offer: Offer, now: datetime) -> Task | None:
        """The route in progress the offer's driver holds for a time overlapping the offered
        route's, if any."""
        offered = await repo.task(offer.task_id)
        assert offered is not None
        held = await repo.tasks(TaskStatus.ASSIGNED, worker_id=offer.worker_id)
        return next((t for t in held if _overlapping(t, offered, now)), None)

    async def _take(
        self,
        s: AsyncSession,
        repo: SqlGigRepository,
        offer: Offer,
        codes: list[tuple[TaskStop, str]],
        now: datetime,
    ) -> tuple[Task, Worker]:
        """Give the offered task to its driver: a code per stop (into `codes`), an event."""
        if not await repo.close_offer(offer.id, OfferStatus.ACCEPTED):
            raise OfferClosedError(str(offer.id))
        if not await repo.move_task(
            offer.task_id,
            TaskStatus.OFFERED,
            TaskStatus.ASSIGNED,
            worker_id=offer.worker_id,
            set_worker=True,
        ):
            raise OfferClosedError(f"{offer.id}: the task is no longer on offer")
        task = await repo.task(offer.task_id)
        worker = await repo.worker(offer.worker_id)
        assert task is not None
        assert worker is not None
        for stop in task.stops:
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            await repo.set_code(task.id, stop.position, code_digest(task.id, stop.position, code))
            codes.append((stop, code))
        await record(
            s,
            TaskAccepted(
                event_id=self._ids.uuid(),
                occurred_at=now,
                aggregate_id=str(task.id),
                task_id=str(task.id),
                reference=task.reference,
                route_id=task.route_id,
                worker_id=str(worker.id),
                worker_name=worker.name,
                stops=_stops(task),
            ),
        )
        return task, worker

    async def decline(self, offer_id: uuid.UUID) -> list[Offer]:
        """The worker says no: the task is offered to the next best worker at once."""
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            offer = await repo.offer(offer_id)
            if offer is None or not await repo.close_offer(offer_id, OfferStatus.DECLINED):
                raise OfferClosedError(str(offer_id))
            await repo.move_task(offer.task_id, TaskStatus.OFFERED, TaskStatus.OPEN)
        # he is on the line (or in the app): a route offered him next is heard there
        return await self.allocate(on_line=offer.worker_id)

    async def current_task(self, worker_id: uuid.UUID) -> Task | None:
        async with self._db.transaction() as s:
            found = await SqlGigRepository(s).tasks(TaskStatus.ASSIGNED, worker_id=worker_id)
        return found[0] if found else None

    async def task_by_reference(self, reference: str) -> Task | None:
        """The task a driver names (the reference read out on the IVR and shown in apps)."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).task_by_reference(reference)

    async def tasks_of(self, worker_id: uuid.UUID) -> list[Task]:
        """Every task the worker has taken (in progress, done, cancelled), by departure."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).tasks(worker_id=worker_id)

    # --- at the door --------------------------------------------------------------------------

    async def arrive(
        self, task_id: uuid.UUID, worker_id: uuid.UUID, *, position: int | None = None
    ) -> TaskStop:
        """The driver is at the next door: its customer's order shows the driver there (once,
        however often he says so). `position`: the stop the driver's app meant; when it is no
        longer the next one (proved or taken off meanwhile), TaskStateError."""
        task = await self._own_task(task_id, worker_id)
        stop = task.next_stop
        if stop is None:
            raise TaskStateError(f"{task.reference} has no stop left")
        if position is not None and stop.position != position:
            raise TaskStateError(f"{task.reference} stop {position} is no longer the next")
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            await self._hold_own_task(repo, task.id, worker_id)
            moved = await repo.update_stop(
                task.id, stop.position, [StopStatus.PENDING], status=StopStatus.ARRIVED.value
            )
            if moved:
                await record(
                    s,
                    StopArrived(
                        event_id=self._ids.uuid(),
                        occurred_at=self._clock.now(),
                        aggregate_id=str(task.id),
                        task_id=str(task.id),
                        worker_id=str(worker_id),
                        position=stop.position,
                        order_reference=stop.order_reference,
                    ),
                )
        return stop

    async def proved_with(self, task_id: uuid.UUID, code: str) -> TaskStop | None:
        """The stop of the task that `code` proved already, unless it is the next stop's code
        too: a driver's app sending a proof again (its answer lost) is answered, not read as
        a wrong code at the next door, where it would cost that customer a try."""
        task = await self.task(task_id)
        code = code.strip()
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)

            async def proves(stop: TaskStop) -> bool:
                digest = await repo.code_digest(task.id, stop.position)
                return digest is not None and secrets.compare_digest(
                    digest, code_digest(task.id, stop.position, code)
                )

            ahead = task.next_stop
            if ahead is not None and await proves(ahead):
                return None
            for stop in reversed(task.stops):
                if stop.status is StopStatus.DELIVERED and await proves(stop):
                    return stop
        return None

    async def confirm_delivery(
        self,
        task_id: uuid.UUID,
        worker_id: uuid.UUID,
        code: str,
        proof: Proof | None = None,
        *,
        position: int | None = None,
    ) -> DeliveryResult:
        """Check the customer's code for the next stop: right, it is delivered and paid; wrong
        three times, an operator is called and the driver moves on.

        `position`: the stop the driver's app meant; when it is no longer the next one (the
        same code sent twice, the first proved it), TaskStateError, and no try is spent on the
        stop after it.
        """
        task = await self._own_task(task_id, worker_id)
        stop = task.next_stop
        if stop is None:
            raise TaskStateError(f"{task.reference} has no stop left")
        if position is not None and stop.position != position:
            raise TaskStateError(f"{task.reference} stop {position} is no longer the next")
        proof = proof or Proof()
        now = self._clock.now()
        tariff = TARIFFS[region_of(task.region).currency]
        earned: Money | None = None
        completed = False
        bonus: Money | None = None
        incident: Incident | None = None
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            await self._hold_own_task(repo, task.id, worker_id)
            digest = await repo.code_digest(task.id, stop.position)
            right = digest is not None and secrets.compare_digest(
                digest, code_digest(task.id, stop.position, code.strip())
            )
            if right:
                moved = await repo.update_stop(
                    task.id,
                    stop.position,
                    [StopStatus.PENDING, StopStatus.ARRIVED],
                    status=StopStatus.DELIVERED.value,
                    photo_ref=proof.photo_ref,
                    proof_lat=proof.point.lat if proof.point else None,
                    proof_lon=proof.point.lon if proof.point else None,
                    delivered_at=now,
                )
                if not moved:
                    raise TaskStateError(f"{task.reference} stop {stop.position} already closed")
                await record(
                    s,
                    StopDelivered(
                        event_id=self._ids.uuid(),
                        occurred_at=now,
                        aggregate_id=str(task.id),
                        task_id=str(task.id),
                        worker_id=str(worker_id),
                        position=stop.position,
                        order_reference=stop.order_reference,
                    ),
                )
                per_stop, per_km = tariff.for_stop(stop.leg_km)
                await self._earn(
                    repo, task, worker_id, stop.position, kind=EarningKind.STOP, amount=per_stop
                )
                await self._earn(
                    repo, task, worker_id, stop.position, kind=EarningKind.DISTANCE, amount=per_km
                )
                earned = per_stop + per_km
                completed, bonus = await self._maybe_complete(repo, task, worker_id, stop.position)
                if bonus is not None:
                    earned = earned + bonus
                # Delivered with the proof: a failure after the commit left the order out for
                # delivery for good, the driver's retry refused as the stop was closed.
                await self._move_order_in(s, stop.order_reference, OrderStatus.DELIVERED)
                outcome, left = CodeCheck.DELIVERED, MAX_CODE_ATTEMPTS - stop.code_attempts
            else:
                # Counted in the database, not from what was read: codes keyed at the same
                # moment (a burst of guesses from an app) each count, and the third escalates.
                attempts = await repo.count_wrong_code(task.id, stop.position, MAX_CODE_ATTEMPTS)
                if attempts is None:
                    raise TaskStateError(f"{task.reference} stop {stop.position} already closed")
                if attempts >= MAX_CODE_ATTEMPTS:
                    await repo.update_stop(
                        task.id,
                        stop.position,
                        [StopStatus.PENDING, StopStatus.ARRIVED],
                        status=StopStatus.ESCALATED.value,
                    )
                    incident = Incident(
                        self._ids.uuid(),
                        task.id,
                        worker_id,
                        stop.position,
                        IncidentKind.CODE_FAILED,
                        now,
                    )
                    await repo.add_incident(incident)
                    completed, _none = await self._maybe_complete(
                        repo, task, worker_id, stop.position
                    )
                    # Queued with the escalation: a failure after the commit would leave the
                    # stop escalated and the operator never told.
                    await self._tell_operator(s, repo, [incident], task, worker_id)
                    outcome, left = CodeCheck.ESCALATED, 0
                else:
                    outcome, left = CodeCheck.WRONG, MAX_CODE_ATTEMPTS - attempts
        return DeliveryResult(outcome, left, earned, completed, bonus)

    async def _tell_operator(
        self,
        s: AsyncSession,
        repo: SqlGigRepository,
        incidents: Sequence[Incident],
        task: Task,
        worker_id: uuid.UUID,
    ) -> None:
        worker = await repo.worker(worker_id)
        if worker is None:
            raise UnknownWorkerError(str(worker_id))
        await self._notifier.incident(s, incidents, task, worker)

    async def resolve_escalation(self, order_reference: str, outcome: StopStatus) -> Resolution:
        """An operator settles an escalated stop (three wrong codes, a problem reported at its
        door, or its route not finished on its day): the customer confirmed the goods arrived
        (DELIVERED) or they came back to the warehouse (RETURNED).

        The stop and its order move in one transaction (the order's status event tells its
        workflow, as a status set by a driver app would); the driver's pay is not changed. Asked
        again with the same outcome it changes nothing and says `already`.
        """
        if outcome not in RESOLUTIONS:
            raise ValueError(f"an escalated stop is resolved as delivered or returned: {outcome}")
        reference = order_reference.strip().upper()
        now = self._clock.now()
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            found = await repo.stop_of_order(reference)
            if found is None:
                raise EscalationError(f"order {reference} is on no driver's route")
            task, stop = found
            resolution = Resolution(reference, task.reference, stop.position, outcome)
            if stop.status is not StopStatus.ESCALATED:
                escalated = any(
                    [await repo.had_incident(task.id, stop.position, k) for k in ESCALATIONS]
                )
                if escalated and stop.status is outcome:
                    return replace(resolution, already=True)
                if escalated and stop.status in RESOLUTIONS:
                    raise EscalationError(
                        f"order {reference} was already resolved as {stop.status.value}"
                    )
                raise EscalationError(
                    f"order {reference} is not escalated (its stop on task {task.reference} is"
                    f" {stop.status.value}): only an escalated delivery is resolved by hand"
                )
            moved = await repo.update_stop(
                task.id,
                stop.position,
                [StopStatus.ESCALATED],
                status=outcome.value,
                delivered_at=now if outcome is StopStatus.DELIVERED else None,
            )
            if not moved:
                raise EscalationError(f"order {reference} was resolved meanwhile: run it again")
            # refused (e.g. the order is no longer dispatched): the stop rolls back with it
            await self._orders.advance_in(s, reference, OrderStatus(outcome.value))
        log.info("gig.escalation_resolved", order=reference, task=task.reference, outcome=outcome)
        return resolution

    async def report_problem(
        self,
        task_id: uuid.UUID,
        worker_id: uuid.UUID,
        kind: IncidentKind,
        *,
        position: int | None = None,
    ) -> ProblemReport:
        """The driver has a problem at his next stop (one of DRIVER_PROBLEMS): the stop is
        handed to an operator, as after three wrong codes (ESCALATED, told by SMS, listed in
        `escalations`, settled by `resolve_escalation`), and his next stop becomes current. A
        VEHICLE problem hands over every open stop of the route: the vehicle cannot go on. A
        route with no open stop left closes, without its bonus.

        Once per stop: a report repeated (a retried request, a second press) answers the
        first one and tells nobody again. `position`: the stop the driver meant (the app's
        `order`, the door the IVR read out); a repeat naming it is answered even once the
        route is finished, and a stop no longer the next one (proved or taken off meanwhile)
        is TaskStateError."""
        if kind not in DRIVER_PROBLEMS:
            raise ValueError(f"a driver reports one of {[k.value for k in DRIVER_PROBLEMS]}")
        task = await self.task(task_id)
        if task.worker_id != worker_id:
            raise TaskStateError(f"{task.reference} is not this worker's task")
        # The stop as first read: a report racing another (under the lock below) finds the
        # first one at this stop, not the stop after it.
        stop = task.next_stop if task.status is TaskStatus.ASSIGNED else None
        door = position if position is not None else stop.position if stop else None
        if door is None:
            raise TaskStateError(f"{task.reference} is not this worker's task in progress")
        now = self._clock.now()
        incidents: list[Incident] = []
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            fresh = await repo.lock_task(task.id)
            if fresh is None:
                raise UnknownTaskError(str(task_id))
            first = await repo.first_incident(task.id, door, DRIVER_PROBLEMS)
            if first is not None:
                # reported before a report handed the stop over: the driver is not kept there
                if fresh.status is TaskStatus.ASSIGNED and await repo.update_stop(
                    fresh.id,
                    door,
                    [StopStatus.PENDING, StopStatus.ARRIVED],
                    status=StopStatus.ESCALATED.value,
                ):
                    await self._maybe_complete(repo, fresh, worker_id, door)
                return ProblemReport(first, already=True)
            _in_progress_for(fresh, worker_id)
            at_door = fresh.next_stop
            if at_door is None or at_door.position != door:
                raise TaskStateError(f"{task.reference} stop {door} is no longer the next")
            doors = [at_door]
            if kind is IncidentKind.VEHICLE:
                doors = [st for st in fresh.stops if st.open]
            for handed in doors:
                if await repo.update_stop(
                    fresh.id,
                    handed.position,
                    [StopStatus.PENDING, StopStatus.ARRIVED],
                    status=StopStatus.ESCALATED.value,
                ):
                    incident = Incident(
                        self._ids.uuid(), fresh.id, worker_id, handed.position, kind, now
                    )
                    await repo.add_incident(incident)
                    incidents.append(incident)
            if not incidents:
                # closed while this waited to write (SQLite locks on the first write, not on
                # lock_task): by the same report at once, or by a code
                first = await repo.first_incident(task.id, door, DRIVER_PROBLEMS)
                if first is not None:
                    return ProblemReport(first, already=True)
                raise TaskStateError(f"{task.reference} stop {door} was closed meanwhile")
            await self._maybe_complete(repo, fresh, worker_id, door)
            # One alert, at the door he reported from, however many doors it hands over;
            # queued with the hand-over, as after three wrong codes.
            await self._tell_operator(s, repo, incidents, task, worker_id)
        log.warning(
            "gig.problem_reported",
            task=task.reference,
            kind=kind.value,
            doors=[i.position for i in incidents],
        )
        return ProblemReport(incidents[0])

    async def incidents(self, task_id: uuid.UUID) -> list[str]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).incidents(task_id)

    # --- pay ----------------------------------------------------------------------------------

    async def earnings(self, worker_id: uuid.UUID, day: date | None = None) -> list[Earning]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).earnings(worker_id, day)

    async def today(self, worker_id: uuid.UUID) -> DayEarnings:
        worker = await self.worker(worker_id)
        day = local_date(worker.region, self._clock.now())
        period = await self.earned(worker_id, day, day)
        return DayEarnings(period.total, period.stops)

    async def local_today(self, worker_id: uuid.UUID) -> date:
        """The worker's calendar day now (his region's), the day earnings are counted on."""
        worker = await self.worker(worker_id)
        return local_date(worker.region, self._clock.now())

    async def earned(self, worker_id: uuid.UUID, first: date, last: date) -> PeriodEarnings:
        """What the worker earned on the days `first` to `last` (his region's calendar days,
        as `today`), in total and per route."""
        worker = await self.worker(worker_id)
        currency = region_of(worker.region).currency
        async with self._db.transaction() as s:
            repo = SqlGigRepository(s)
            found = await repo.earnings_between(worker_id, first, last)
            tasks = {t: await repo.task(t) for t in dict.fromkeys(e.task_id for e in found)}
        per_task = []
        for task_id, task in tasks.items():
            assert task is not None  # an earning is always of a task
            mine = [e for e in found if e.task_id == task_id]
            per_task.append(
                TaskEarnings(
                    task.reference,
                    task.departure,
                    total([e.amount for e in mine], currency),
                    sum(1 for e in mine if e.kind is EarningKind.STOP),
                )
            )
        per_task.sort(key=lambda t: (t.departure, t.reference), reverse=True)
        return PeriodEarnings(
            first,
            last,
            total([e.amount for e in found], currency),
            sum(t.stops for t in per_task),
            tuple(per_task),
        )

    async def settle(self, worker_id: uuid.UUID, day: date) -> Payout | None:
        """Record a payout of the day's unpaid earnings (None when nothing is owed). The money
        itself moves in `core.app.driver_payouts`, which sends it on the region's rail.

        Two runs at once (an operator and a scheduled `drivers pay`) record one payout: the
        one that finds an earning already taken rolls back and looks again."""
        worker = await self.worker(worker_id)
        currency = region_of(worker.region).currency
        for _ in range(SETTLE_ATTEMPTS):
            try:
                async with self._db.transaction() as s:
                    repo = SqlGigRepository(s)
                    unpaid = await repo.earnings(worker_id, day, unpaid=True)
                    if not unpaid:
                        return None
                    payout = Payout(
                        self._ids.uuid(),
                        worker_id,
                        total([e.amount for e in unpaid], currency),
                        day,
                        PayoutStatus.PENDING,
                        tuple(e.id for e in unpaid),
                    )
                    if not await repo.add_payout(payout, self._clock.now()):
                        raise _EarningsTakenError(payout.id)
                    return payout
            except _EarningsTakenError:
                continue
        raise GigError(f"the earnings of worker {worker_id} on {day} are being settled elsewhere")

    async def unsettled_days(self, worker_id: uuid.UUID, through: date) -> list[date]:
        """The days up to `through` whose earnings no payout took yet (a route proved after
        that day's `settle`, or a day nobody settled), oldest first."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).unsettled_days(worker_id, through)

    async def payouts(self, worker_id: uuid.UUID) -> list[tuple[uuid.UUID, Money, date, str]]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).payouts(worker_id)

    async def workers(self, region: RegionCode) -> list[Worker]:
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).workers(region)

    async def close_payout(self, payout_id: uuid.UUID, status: PayoutStatus) -> bool:
        """The rail's answer on a pending payout (False when it was already closed)."""
        if status is PayoutStatus.PENDING:
            raise ValueError("a payout is closed as paid or failed")
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).close_payout(payout_id, status.value)

    async def reopen_payout(self, payout_id: uuid.UUID) -> bool:
        """A paid payout the payee's bank sent back: pending again, as the money is owed again
        (False when it was not paid, e.g. the reversal was delivered twice)."""
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).reopen_payout(payout_id)

    async def rate(self, task_id: uuid.UUID, stars: int) -> bool:
        """A customer's or operator's 1-5 stars for a finished task; once per task."""
        if not 1 <= stars <= 5:
            raise InvalidWorkerError("stars", "1 to 5")
        task = await self.task(task_id)
        if task.worker_id is None or task.status is not TaskStatus.COMPLETED:
            raise TaskStateError(f"{task.reference} is not finished")
        async with self._db.transaction() as s:
            return await SqlGigRepository(s).add_rating(
                task.id, task.worker_id, stars, self._clock.now()
            )

    # --- inside -------------------------------------------------------------------------------

    async def _own_task(self, task_id: uuid.UUID, worker_id: uuid.UUID) -> Task:
        return _in_progress_for(await self.task(task_id), worker_id)

    @staticmethod
    async def _hold_own_task(
        repo: SqlGigRepository, task_id: uuid.UUID, worker_id: uuid.UUID
    ) -> None:
        """Lock the task for a step at a door, and check again that it is still in progress:
        the route may have expired (`_expire` holds the same lock) since the first look."""
        task = await repo.lock_task(task_id)
        if task is None:
            raise UnknownTaskError(str(task_id))
        _in_progress_for(task, worker_id)

    async def _earn(
        self,
        repo: SqlGigRepository,
        task: Task,
        worker_id: uuid.UUID,
        position: int | None,
        *,
        kind: EarningKind,
        amount: Money,
    ) -> None:
        # the day the money is earned is the region's calendar day: payouts settle per that day
        day = local_date(task.region, self._clock.now())
        earning = Earning(self._ids.uuid(), worker_id, task.id, kind, amount, day)
        await repo.add_earning(earning, position)

    async def _maybe_complete(
        self, repo: SqlGigRepository, task: Task, worker_id: uuid.UUID, closed: int
    ) -> tuple[bool, Money | None]:
        """Close the task after its last stop; a route with no escalation earns the bonus.

        An escalation is read from the incidents, not from the stops' status: a door an
        operator already resolved (delivered or returned) was still handed over."""
        fresh = await repo.task(task.id)
        assert fresh is not None
        if any(s.open for s in fresh.stops):
            return False, None
        await repo.move_task(task.id, TaskStatus.ASSIGNED, TaskStatus.COMPLETED)
        if await repo.incidents(task.id):
            return True, None
        bonus = TARIFFS[region_of(task.region).currency].completion_bonus
        await self._earn(repo, task, worker_id, None, kind=EarningKind.BONUS, amount=bonus)
        return True, bonus

    async def _free_reference(self, repo: SqlGigRepository) -> str:
        for _ in range(REFERENCE_ATTEMPTS):
            reference = self._ids.reference()
            if not await repo.reference_taken(reference):
                return reference
        raise RuntimeError("could not find a free task reference")

    async def _packed(self, task: Task) -> bool:
        """Nothing on the route is still to be picked or packed (an order the orders engine
        does not know holds nothing in the warehouse)."""
        for stop in task.stops:
            try:
                order = await self._orders.get(stop.order_reference)
            except UnknownOrderError:
                continue
            if order.status in TO_BE_PACKED:
                return False
        return True

    async def _move_order_in(self, s: AsyncSession, reference: str, target: OrderStatus) -> None:
        """Keep the order's status in step, in the caller's transaction; an order refused (not
        released, gone, or moved meanwhile) is logged, not allowed to stop the driver: it is
        refused before anything of it is written, so the rest commits."""
        try:
            await self._orders.advance_in(s, reference, target)
        except OrderError as exc:
            log.warning("gig.order_not_moved", reference=reference, target=target, error=repr(exc))


class _EarningsTakenError(GigError):
    """Another payout took some of these earnings meanwhile: roll back and look again."""


def _stops(task: Task) -> tuple[TaskStopPayload, ...]:
    return tuple(
        TaskStopPayload(position=s.position, order_reference=s.order_reference) for s in task.stops
    )


def _check_shift(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidWorkerError("ends_at", "a shift ends after it starts")
    if ends_at - starts_at > MAX_SHIFT:
        raise InvalidWorkerError("ends_at", "a shift is at most 14 hours")


def offerable(task: Task, region: RegionCode, shift: Shift, now: datetime) -> bool:
    """May `task` go to a worker of `region` on `shift` at `now`: same region, the task's
    departure on the region's day of `now`, and the shift lasts until the route is back at its
    depot as planned (leaving at its departure, or now if that has passed): a driver whose
    shift ends mid-route is not sent on it."""
    back = max(task.departure, now) + task.duration
    return (
        task.region == region
        and local_date(task.region, task.departure) == local_date(task.region, now)
        and task.departure < shift.ends_at
        and back <= shift.ends_at
    )


def _overlapping(held: Task, offered: Task, now: datetime) -> bool:
    """Would the driver of `held` (in progress) be on it while on `offered`? A route in
    progress runs from its departure until it is planned back, or now if he is still out; the
    offered one from its departure (or now) for its planned length. A route with no planned
    return runs until the end of its day."""
    held_ends = max(_planned_end(held, held.departure), now)
    starts = max(offered.departure, now)
    return held.departure < _planned_end(offered, starts) and starts < held_ends


def _planned_end(task: Task, starts: datetime) -> datetime:
    if task.returns_at is None:
        return day_bounds(task.region, local_date(task.region, task.departure))[1]
    return starts + task.duration


def open_stops(tasks: Sequence[Task]) -> int:
    return sum(1 for t in tasks for s in t.stops if s.open)


def _in_progress_for(task: Task, worker_id: uuid.UUID) -> Task:
    if task.worker_id != worker_id or task.status is not TaskStatus.ASSIGNED:
        raise TaskStateError(f"{task.reference} is not this worker's task in progress")
    return task
