"""SQLAlchemy adapter for the gig context: explicit row <-> model mapping."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.bank import BankAccount
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.gig.model import (
    ESCALATIONS,
    Document,
    DocumentKind,
    Earning,
    EarningKind,
    Escalation,
    GeoPoint,
    Incident,
    IncidentKind,
    Offer,
    OfferStatus,
    Onboard,
    Payout,
    Shift,
    StopStatus,
    Task,
    TaskStatus,
    TaskStop,
    Vehicle,
    VehicleKind,
    Worker,
    WorkerStatus,
)
from engines.gig.tables import (
    gig_documents,
    gig_earnings,
    gig_incidents,
    gig_offers,
    gig_payouts,
    gig_ratings,
    gig_shifts,
    gig_task_stops,
    gig_tasks,
    gig_workers,
)


class SqlGigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # workers ----------------------------------------------------------------------------------

    async def add_worker(self, worker_id: uuid.UUID, form: Onboard, now: datetime) -> None:
        await self._s.execute(
            gig_workers.insert().values(
                id=worker_id,
                phone=form.phone.e164,
                name=form.name,
                national_id=form.national_id,
                region=form.region.value,
                locale=form.locale,
                vehicle_kind=form.vehicle.kind.value,
                vehicle_plate=form.vehicle.plate,
                capacity_units=form.vehicle.capacity_units,
                status=WorkerStatus.PENDING.value,
                available=False,
                lat=None,
                lon=None,
                rating_total=0,
                rating_count=0,
                created_at=now,
                bank_code=form.bank.bank_code if form.bank else None,
                bank_account=form.bank.number if form.bank else None,
            )
        )

    async def worker(self, worker_id: uuid.UUID) -> Worker | None:
        row = (
            await self._s.execute(select(gig_workers).where(gig_workers.c.id == worker_id))
        ).first()
        return None if row is None else _worker(row)

    async def lock_worker(self, worker_id: uuid.UUID) -> None:
        """Lock the worker's row to the end of the transaction (a write that changes nothing:
        a row lock on PostgreSQL, the write lock on SQLite, whose reads before a transaction's
        first write see no lock): offers to a worker and his accepts go one at a time, each
        reading what the one before did."""
        await self._s.execute(
            update(gig_workers)
            .where(gig_workers.c.id == worker_id)
            .values(phone=gig_workers.c.phone)
        )

    async def worker_by_phone(self, phone: Phone) -> Worker | None:
        row = (
            await self._s.execute(select(gig_workers).where(gig_workers.c.phone == phone.e164))
        ).first()
        return None if row is None else _worker(row)

    async def workers(self, region: RegionCode | None = None) -> list[Worker]:
        query = select(gig_workers)
        if region is not None:
            query = query.where(gig_workers.c.region == region.value)
        rows = await self._s.execute(query.order_by(gig_workers.c.created_at, gig_workers.c.id))
        return [_worker(r) for r in rows]

    async def update_worker(self, worker_id: uuid.UUID, **values: Any) -> None:
        await self._s.execute(
            update(gig_workers).where(gig_workers.c.id == worker_id).values(**values)
        )

    async def add_document(self, doc: Document) -> None:
        await self._s.execute(
            gig_documents.insert().values(
                id=doc.id,
                worker_id=doc.worker_id,
                kind=doc.kind.value,
                object_key=doc.object_key,
                content_type=doc.content_type,
                size=doc.size,
                uploaded_at=doc.uploaded_at,
            )
        )

    async def documents(self, worker_id: uuid.UUID) -> list[Document]:
        rows = await self._s.execute(
            select(gig_documents)
            .where(gig_documents.c.worker_id == worker_id)
            .order_by(gig_documents.c.uploaded_at, gig_documents.c.id)
        )
        return [
            Document(
                r.id,
                r.worker_id,
                DocumentKind(r.kind),
                r.object_key,
                r.content_type,
                r.size,
                r.uploaded_at,
            )
            for r in rows
        ]

    async def add_shift(self, shift: Shift) -> None:
        await self._s.execute(
            gig_shifts.insert().values(
                id=shift.id,
                worker_id=shift.worker_id,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
            )
        )

    async def drop_shifts_starting(
        self, worker_id: uuid.UUID, starts: datetime, ends: datetime
    ) -> None:
        """Remove the worker's shifts starting within [starts, ends)."""
        await self._s.execute(
            delete(gig_shifts).where(
                gig_shifts.c.worker_id == worker_id,
                gig_shifts.c.starts_at >= starts,
                gig_shifts.c.starts_at < ends,
            )
        )

    async def shifts_at(self, at: datetime) -> dict[uuid.UUID, Shift]:
        """Each worker on shift at `at`, with that shift (the one ending last, if several)."""
        rows = await self._s.execute(
            select(gig_shifts)
            .where(gig_shifts.c.starts_at <= at, gig_shifts.c.ends_at > at)
            .order_by(gig_shifts.c.ends_at)
        )
        return {r.worker_id: Shift(r.id, r.worker_id, r.starts_at, r.ends_at) for r in rows}

    async def shifts(self, worker_id: uuid.UUID) -> list[Shift]:
        rows = await self._s.execute(
            select(gig_shifts)
            .where(gig_shifts.c.worker_id == worker_id)
            .order_by(gig_shifts.c.starts_at)
        )
        return [Shift(r.id, r.worker_id, r.starts_at, r.ends_at) for r in rows]

    # tasks ------------------------------------------------------------------------------------

    async def add_task(self, task: Task) -> None:
        await self._s.execute(
            gig_tasks.insert().values(
                id=task.id,
                reference=task.reference,
                route_id=task.route_id,
                region=task.region.value,
                depot={"lat": task.depot.lat, "lon": task.depot.lon},
                departure=task.departure,
                returns_at=task.returns_at,
                status=task.status.value,
                worker_id=task.worker_id,
                created_at=task.created_at,
            )
        )
        await self._s.execute(
            gig_task_stops.insert(),
            [
                {
                    "task_id": task.id,
                    "position": s.position,
                    "order_reference": s.order_reference,
                    "customer": s.customer.e164,
                    "address": s.address,
                    "lat": s.point.lat,
                    "lon": s.point.lon,
                    "units": s.units,
                    "leg_km": s.leg_km,
                    "status": s.status.value,
                    "code_digest": None,
                    "code_attempts": 0,
                }
                for s in task.stops
            ],
        )

    async def reference_taken(self, reference: str) -> bool:
        return (
            await self._s.scalar(select(gig_tasks.c.id).where(gig_tasks.c.reference == reference))
        ) is not None

    async def task(self, task_id: uuid.UUID) -> Task | None:
        row = (await self._s.execute(select(gig_tasks).where(gig_tasks.c.id == task_id))).first()
        return None if row is None else await self._task(row)

    async def lock_task(self, task_id: uuid.UUID) -> Task | None:
        """The task, its row locked to the end of the transaction (PostgreSQL; SQLite has one
        writer at a time): whoever changes the task or its stops in a race waits for the other,
        then reads what the other did."""
        row = (
            await self._s.execute(
                select(gig_tasks).where(gig_tasks.c.id == task_id).with_for_update()
            )
        ).first()
        return None if row is None else await self._task(row)

    async def task_by_reference(self, reference: str) -> Task | None:
        row = (
            await self._s.execute(select(gig_tasks).where(gig_tasks.c.reference == reference))
        ).first()
        return None if row is None else await self._task(row)

    async def task_by_route(self, route_id: str) -> Task | None:
        row = (
            await self._s.execute(select(gig_tasks).where(gig_tasks.c.route_id == route_id))
        ).first()
        return None if row is None else await self._task(row)

    async def tasks(self, *statuses: TaskStatus, worker_id: uuid.UUID | None = None) -> list[Task]:
        query = select(gig_tasks)
        if statuses:
            query = query.where(gig_tasks.c.status.in_([s.value for s in statuses]))
        if worker_id is not None:
            query = query.where(gig_tasks.c.worker_id == worker_id)
        rows = (await self._s.execute(query.order_by(gig_tasks.c.departure, gig_tasks.c.id))).all()
        return [await self._task(r) for r in rows]

    async def stop_of_order(self, reference: str) -> tuple[Task, TaskStop] | None:
        """The stop carrying the order, on its newest task not cancelled or expired (those
        carry nothing any more)."""
        row = (
            await self._s.execute(
                select(gig_task_stops.c.task_id)
                .join(gig_tasks, gig_tasks.c.id == gig_task_stops.c.task_id)
                .where(
                    gig_task_stops.c.order_reference == reference,
                    gig_tasks.c.status.notin_(
                        [TaskStatus.CANCELLED.value, TaskStatus.EXPIRED.value]
                    ),
                )
                .order_by(gig_tasks.c.created_at.desc(), gig_tasks.c.id)
                .limit(1)
            )
        ).first()
        task = None if row is None else await self.task(row.task_id)
        if task is None:
            return None
        return task, next(s for s in task.stops if s.order_reference == reference)

    async def _task(self, row: Any) -> Task:
        stops = await self._s.execute(
            select(gig_task_stops)
            .where(gig_task_stops.c.task_id == row.id)
            .order_by(gig_task_stops.c.position)
        )
        return Task(
            id=row.id,
            reference=row.reference,
            route_id=row.route_id,
            region=RegionCode(row.region),
            depot=GeoPoint(float(row.depot["lat"]), float(row.depot["lon"])),
            departure=row.departure,
            status=TaskStatus(row.status),
            worker_id=row.worker_id,
            stops=tuple(
                TaskStop(
                    position=s.position,
                    order_reference=s.order_reference,
                    customer=Phone(s.customer),
                    address=s.address,
                    point=GeoPoint(s.lat, s.lon),
                    units=s.units,
                    leg_km=Decimal(s.leg_km),
                    status=StopStatus(s.status),
                    code_attempts=s.code_attempts,
                )
                for s in stops
            ),
            created_at=row.created_at,
            returns_at=row.returns_at,
        )

    async def move_task(
        self,
        task_id: uuid.UUID,
        expected: TaskStatus,
        target: TaskStatus,
        *,
        worker_id: uuid.UUID | None = None,
        set_worker: bool = False,
    ) -> bool:
        """Compare-and-set on the status: of two racing moves exactly one wins."""
        values: dict[str, Any] = {"status": target.value}
        if set_worker:
            values["worker_id"] = worker_id
        result = await self._s.execute(
            update(gig_tasks)
            .where(gig_tasks.c.id == task_id, gig_tasks.c.status == expected.value)
            .values(**values)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def set_code(self, task_id: uuid.UUID, position: int, digest: str) -> None:
        await self._s.execute(
            update(gig_task_stops)
            .where(gig_task_stops.c.task_id == task_id, gig_task_stops.c.position == position)
            .values(code_digest=digest, code_attempts=0)
        )

    async def code_digest(self, task_id: uuid.UUID, position: int) -> str | None:
        found: str | None = await self._s.scalar(
            select(gig_task_stops.c.code_digest).where(
                gig_task_stops.c.task_id == task_id, gig_task_stops.c.position == position
            )
        )
        return found

    async def update_stop(
        self, task_id: uuid.UUID, position: int, expected: Sequence[StopStatus], **values: Any
    ) -> bool:
        result = await self._s.execute(
            update(gig_task_stops)
            .where(
                gig_task_stops.c.task_id == task_id,
                gig_task_stops.c.position == position,
                gig_task_stops.c.status.in_([s.value for s in expected]),
            )
            .values(**values)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def remove_stop(self, task_id: uuid.UUID, position: int) -> bool:
        """Take an open stop (pending, or the driver at its door) off its task; False when it
        is gone or closed already. The other stops keep their positions (their codes are keyed
        on them)."""
        result = await self._s.execute(
            delete(gig_task_stops).where(
                gig_task_stops.c.task_id == task_id,
                gig_task_stops.c.position == position,
                gig_task_stops.c.status.in_([StopStatus.PENDING.value, StopStatus.ARRIVED.value]),
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def count_wrong_code(self, task_id: uuid.UUID, position: int, limit: int) -> int | None:
        """One more wrong code on an open stop, counted in the row itself (never from a value
        read before: concurrent guesses each count); the count now, or None when the stop is
        closed or has had its `limit` already."""
        where = (
            gig_task_stops.c.task_id == task_id,
            gig_task_stops.c.position == position,
        )
        counted = await self._s.execute(
            update(gig_task_stops)
            .where(
                *where,
                gig_task_stops.c.status.in_([StopStatus.PENDING.value, StopStatus.ARRIVED.value]),
                gig_task_stops.c.code_attempts < limit,
            )
            .values(code_attempts=gig_task_stops.c.code_attempts + 1)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            return None
        attempts = await self._s.execute(select(gig_task_stops.c.code_attempts).where(*where))
        return int(attempts.scalar_one())

    # offers -----------------------------------------------------------------------------------

    async def add_offer(self, offer: Offer) -> None:
        await self._s.execute(
            gig_offers.insert().values(
                id=offer.id,
                task_id=offer.task_id,
                worker_id=offer.worker_id,
                status=offer.status.value,
                offered_at=offer.offered_at,
                expires_at=offer.expires_at,
            )
        )

    async def offer(self, offer_id: uuid.UUID) -> Offer | None:
        row = (await self._s.execute(select(gig_offers).where(gig_offers.c.id == offer_id))).first()
        return None if row is None else _offer(row)

    async def offers(
        self,
        *statuses: OfferStatus,
        task_id: uuid.UUID | None = None,
        worker_id: uuid.UUID | None = None,
    ) -> list[Offer]:
        query = select(gig_offers)
        if statuses:
            query = query.where(gig_offers.c.status.in_([s.value for s in statuses]))
        if task_id is not None:
            query = query.where(gig_offers.c.task_id == task_id)
        if worker_id is not None:
            query = query.where(gig_offers.c.worker_id == worker_id)
        rows = await self._s.execute(query.order_by(gig_offers.c.offered_at, gig_offers.c.id))
        return [_offer(r) for r in rows]

    async def close_offer(self, offer_id: uuid.UUID, target: OfferStatus) -> bool:
        result = await self._s.execute(
            update(gig_offers)
            .where(gig_offers.c.id == offer_id, gig_offers.c.status == OfferStatus.OPEN.value)
            .values(status=target.value)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # incidents, earnings, payouts, ratings -----------------------------------------------------

    async def add_incident(self, incident: Incident) -> None:
        await self._s.execute(
            gig_incidents.insert().values(
                id=incident.id,
                task_id=incident.task_id,
                worker_id=incident.worker_id,
                position=incident.position,
                kind=incident.kind.value,
                reported_at=incident.reported_at,
            )
        )

    async def had_incident(self, task_id: uuid.UUID, position: int, kind: IncidentKind) -> bool:
        row = (
            await self._s.execute(
                select(gig_incidents.c.id)
                .where(
                    gig_incidents.c.task_id == task_id,
                    gig_incidents.c.position == position,
                    gig_incidents.c.kind == kind.value,
                )
                .limit(1)
            )
        ).first()
        return row is not None

    async def first_incident(
        self, task_id: uuid.UUID, position: int, kinds: Iterable[IncidentKind]
    ) -> Incident | None:
        """The stop's earliest incident of one of `kinds`, if any."""
        row = (
            await self._s.execute(
                select(gig_incidents)
                .where(
                    gig_incidents.c.task_id == task_id,
                    gig_incidents.c.position == position,
                    gig_incidents.c.kind.in_([k.value for k in kinds]),
                )
                .order_by(gig_incidents.c.reported_at, gig_incidents.c.id)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return Incident(
            row.id,
            row.task_id,
            row.worker_id,
            row.position,
            IncidentKind(row.kind),
            row.reported_at,
        )

    async def escalated(self) -> list[Escalation]:
        """Every stop waiting for an operator, oldest route first, with why and since when it
        was handed over (its latest escalating incident)."""
        reason = _latest_escalation(gig_incidents.c.kind)
        since = _latest_escalation(gig_incidents.c.reported_at)
        rows = await self._s.execute(
            select(
                gig_task_stops.c.order_reference,
                gig_tasks.c.reference,
                gig_task_stops.c.position,
                gig_task_stops.c.customer,
                gig_task_stops.c.address,
                reason.label("reason"),
                since.label("since"),
            )
            .join(gig_tasks, gig_tasks.c.id == gig_task_stops.c.task_id)
            .where(gig_task_stops.c.status == StopStatus.ESCALATED.value)
            .order_by(gig_tasks.c.departure, gig_tasks.c.reference, gig_task_stops.c.position)
        )
        return [
            Escalation(
                r.order_reference,
                r.reference,
                r.position,
                Phone(r.customer),
                r.address,
                IncidentKind(r.reason or IncidentKind.CODE_FAILED.value),
                r.since,
            )
            for r in rows
        ]

    async def incidents(self, task_id: uuid.UUID) -> list[str]:
        rows = await self._s.execute(
            select(gig_incidents.c.kind)
            .where(gig_incidents.c.task_id == task_id)
            .order_by(gig_incidents.c.reported_at)
        )
        return [r[0] for r in rows]

    async def add_earning(self, earning: Earning, position: int | None) -> None:
        await self._s.execute(
            gig_earnings.insert().values(
                id=earning.id,
                worker_id=earning.worker_id,
                task_id=earning.task_id,
                position=position,
                kind=earning.kind.value,
                amount=earning.amount.amount,
                currency=earning.amount.currency,
                earned_on=earning.earned_on,
                payout_id=None,
            )
        )

    async def earnings(
        self, worker_id: uuid.UUID, day: date | None = None, *, unpaid: bool = False
    ) -> list[Earning]:
        query = select(gig_earnings).where(gig_earnings.c.worker_id == worker_id)
        if day is not None:
            query = query.where(gig_earnings.c.earned_on == day)
        if unpaid:
            query = query.where(gig_earnings.c.payout_id.is_(None))
        rows = await self._s.execute(query.order_by(gig_earnings.c.id))
        return [
            Earning(
                r.id,
                r.worker_id,
                r.task_id,
                EarningKind(r.kind),
                Money(r.amount, r.currency),
                r.earned_on,
                r.payout_id,
            )
            for r in rows
        ]

    async def unsettled_days(self, worker_id: uuid.UUID, through: date) -> list[date]:
        """The days up to `through` with earnings no payout took yet, oldest first."""
        rows = await self._s.execute(
            select(gig_earnings.c.earned_on)
            .where(
                gig_earnings.c.worker_id == worker_id,
                gig_earnings.c.payout_id.is_(None),
                gig_earnings.c.earned_on <= through,
            )
            .distinct()
            .order_by(gig_earnings.c.earned_on)
        )
        return list(rows.scalars())

    async def earnings_between(
        self, worker_id: uuid.UUID, first: date, last: date
    ) -> list[Earning]:
        """The worker's earnings on the days `first` to `last`, both included."""
        rows = await self._s.execute(
            select(gig_earnings)
            .where(
                gig_earnings.c.worker_id == worker_id,
                gig_earnings.c.earned_on >= first,
                gig_earnings.c.earned_on <= last,
            )
            .order_by(gig_earnings.c.id)
        )
        return [
            Earning(
                r.id,
                r.worker_id,
                r.task_id,
                EarningKind(r.kind),
                Money(r.amount, r.currency),
                r.earned_on,
                r.payout_id,
            )
            for r in rows
        ]

    async def earned_on(self, day: date) -> dict[uuid.UUID, Decimal]:
        """Each worker's earnings on `day` (one currency per region, so amounts add up)."""
        rows = await self._s.execute(
            select(gig_earnings.c.worker_id, gig_earnings.c.amount).where(
                gig_earnings.c.earned_on == day
            )
        )
        totals: dict[uuid.UUID, Decimal] = {}
        for worker_id, amount in rows:
            totals[worker_id] = totals.get(worker_id, Decimal(0)) + Decimal(amount)
        return totals

    async def add_payout(self, payout: Payout, now: datetime) -> bool:
        """Record the payout and mark its earnings paid by it, each a compare-and-set on still
        unpaid: False when another payout took any of them meanwhile (the caller rolls back)."""
        payout_id, worker_id, amount = payout.id, payout.worker_id, payout.amount
        day, status, earnings = payout.earned_on, payout.status.value, payout.earnings
        await self._s.execute(
            gig_payouts.insert().values(
                id=payout_id,
                worker_id=worker_id,
                amount=amount.amount,
                currency=amount.currency,
                earned_on=day,
                status=status,
                created_at=now,
            )
        )
        if not earnings:
            return True
        claimed = await self._s.execute(
            update(gig_earnings)
            .where(gig_earnings.c.id.in_(list(earnings)), gig_earnings.c.payout_id.is_(None))
            .values(payout_id=payout_id)
        )
        return bool(claimed.rowcount == len(earnings))  # type: ignore[attr-defined]

    async def payouts(self, worker_id: uuid.UUID) -> list[tuple[uuid.UUID, Money, date, str]]:
        rows = await self._s.execute(
            select(gig_payouts)
            .where(gig_payouts.c.worker_id == worker_id)
            .order_by(gig_payouts.c.created_at, gig_payouts.c.id)
        )
        return [(r.id, Money(r.amount, r.currency), r.earned_on, r.status) for r in rows]

    async def close_payout(self, payout_id: uuid.UUID, status: str) -> bool:
        """Compare-and-set from pending: a callback delivered twice closes it once."""
        result = await self._s.execute(
            update(gig_payouts)
            .where(gig_payouts.c.id == payout_id, gig_payouts.c.status == "pending")
            .values(status=status)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def reopen_payout(self, payout_id: uuid.UUID) -> bool:
        """Compare-and-set from paid back to pending: the payee's bank returned the money."""
        result = await self._s.execute(
            update(gig_payouts)
            .where(gig_payouts.c.id == payout_id, gig_payouts.c.status == "paid")
            .values(status="pending")
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def add_rating(
        self, task_id: uuid.UUID, worker_id: uuid.UUID, stars: int, now: datetime
    ) -> bool:
        exists = await self._s.scalar(
            select(gig_ratings.c.task_id).where(gig_ratings.c.task_id == task_id)
        )
        if exists is not None:
            return False
        await self._s.execute(
            gig_ratings.insert().values(
                task_id=task_id, worker_id=worker_id, stars=stars, rated_at=now
            )
        )
        await self._s.execute(
            update(gig_workers)
            .where(gig_workers.c.id == worker_id)
            .values(
                rating_total=gig_workers.c.rating_total + stars,
                rating_count=gig_workers.c.rating_count + 1,
            )
        )
        return True


def _worker(r: Any) -> Worker:
    return Worker(
        id=r.id,
        phone=Phone(r.phone),
        name=r.name,
        national_id=r.national_id,
        region=RegionCode(r.region),
        locale=r.locale,
        vehicle=Vehicle(VehicleKind(r.vehicle_kind), r.vehicle_plate, r.capacity_units),
        status=WorkerStatus(r.status),
        available=r.available,
        position=None if r.lat is None or r.lon is None else GeoPoint(r.lat, r.lon),
        rating_total=r.rating_total,
        rating_count=r.rating_count,
        created_at=r.created_at,
        bank=BankAccount(r.bank_code, r.bank_account) if r.bank_code and r.bank_account else None,
    )


def _offer(r: Any) -> Offer:
    return Offer(r.id, r.task_id, r.worker_id, OfferStatus(r.status), r.offered_at, r.expires_at)


def _latest_escalation(column: Any) -> Any:
    """`column` of a stop's latest escalating incident, correlated to the stop's row."""
    return (
        select(column)
        .where(
            gig_incidents.c.task_id == gig_task_stops.c.task_id,
            gig_incidents.c.position == gig_task_stops.c.position,
            gig_incidents.c.kind.in_([k.value for k in ESCALATIONS]),
        )
        .order_by(gig_incidents.c.reported_at.desc())
        .limit(1)
        .scalar_subquery()
    )
