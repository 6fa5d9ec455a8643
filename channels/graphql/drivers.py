# ruff: noqa: N818 - GraphQL result types (WrongCode) are API names, not exceptions
"""The drivers' app over GraphQL: the same GigService calls as the drivers' IVR.

A driver (JWT `sub` = the driver's E.164 phone, `role` = driver) sees and works only their own
tasks; operators and admins may read any driver's tasks. Expected failures (a lapsed offer, a
wrong code) come back as typed errors; who may call comes back as FORBIDDEN/UNAUTHENTICATED.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from channels.graphql.auth import ClientError, forbidden, require
from channels.graphql.context import GraphQLContext
from channels.graphql.errors import UserError
from channels.graphql.orders import PaymentMethod
from channels.graphql.scalars import MoneyType, page_size
from core.money import Money
from core.phone import InvalidPhoneError, Phone
from engines.access import Principal, Role
from engines.gig import (
    CodeCheck,
    DriverBusyError,
    IncidentKind,
    OfferClosedError,
    OfferStatus,
    PeriodEarnings,
    ProblemReport,
    StopStatus,
    Task,
    TaskStateError,
    TaskStatus,
    TaskStop,
    Worker,
    WorkerStatus,
)
from engines.orders import Order, OrderStatus
from engines.orders import PaymentMethod as PaymentMethodModel

Info = strawberry.Info[GraphQLContext, None]

strawberry.enum(TaskStatus, name="DriverTaskStatus")
strawberry.enum(StopStatus, name="DriverStopStatus")

CODE_DIGITS = 4
# The longest period one earnings query adds up: a year of days.
MAX_EARNINGS_DAYS = 366


@strawberry.enum(description="What a driver reports at a stop: the IVR's problem menu")
class DriverProblem(Enum):
    CUSTOMER_ABSENT = IncidentKind.CUSTOMER_ABSENT.value
    WRONG_ADDRESS = IncidentKind.WRONG_ADDRESS.value
    VEHICLE = IncidentKind.VEHICLE.value
    OTHER = IncidentKind.OTHER.value


@strawberry.type(description="One door of a task, in visiting order")
class DriverStop:
    position: int
    order_reference: str
    address: str
    customer_name: str | None = strawberry.field(description="When the customer gave one")
    units: int
    status: StopStatus


@strawberry.type(description="One item of an order to hand over")
class DriverOrderLine:
    sku: str
    name: str
    quantity: int


@strawberry.type(description="What to hand over at a stop, and what to collect there")
class DriverOrder:
    reference: str
    position: int = strawberry.field(description="The stop it is delivered at")
    customer_name: str | None
    address: str
    status: OrderStatus
    lines: list[DriverOrderLine]
    payment_method: PaymentMethod
    collect: MoneyType = strawberry.field(
        description="The cash to take at the door: the total of an unpaid pay-on-delivery order "
        "rounded to the currency's cash unit (NGN 1, KES 1, ZAR 0.10), else zero"
    )


# A driver's own tasks whose orders he carries or carried: an expired or cancelled one's went
# back to the dock, and may go out with someone else.
CARRIED = frozenset({TaskStatus.ASSIGNED, TaskStatus.COMPLETED})

# Nothing is taken at the door for these: cancelled, returned, or already handed over.
SETTLED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.DELIVERED})


@strawberry.type(description="A route a driver is offered, drives or has driven")
class DriverTask:
    reference: str
    status: TaskStatus
    departure: datetime
    units: int
    km: Decimal
    stops: list[DriverStop]
    offer_expires_at: datetime | None = strawberry.field(
        description="Until when the open offer may be accepted (offered tasks only)"
    )
    yours: strawberry.Private[bool] = False

    @strawberry.field(
        description="The orders to deliver, in visiting order: only for the driver the task is "
        "assigned to (null for anyone else, as for a task that does not exist)"
    )
    async def orders(self, info: Info) -> list[DriverOrder] | None:
        if not self.yours:
            return None
        # Every task's orders on the page come in one read (the loader batches them).
        orders = await info.context.loaders.orders.load_many(
            [stop.order_reference for stop in self.stops]
        )
        return [
            _order(order, stop)
            for order, stop in zip(orders, self.stops, strict=True)
            if order is not None
        ]


@strawberry.type(description="What one route paid: its proved stops, kilometres and bonus")
class DriverTaskEarnings:
    reference: str
    departure: datetime
    stops: int = strawberry.field(description="Stops proved and paid")
    total: MoneyType


@strawberry.type(description="What you earned on your region's days `from` to `to`")
class DriverEarnings:
    from_: date = strawberry.field(name="from")
    to: date
    total: MoneyType
    stops: int = strawberry.field(description="Stops proved and paid")
    tasks: list[DriverTaskEarnings] = strawberry.field(
        description="Route by route, newest departure first"
    )

    @classmethod
    def of(cls, period: PeriodEarnings) -> DriverEarnings:
        return cls(
            from_=period.first,
            to=period.last,
            total=MoneyType.of(period.total),
            stops=period.stops,
            tasks=[
                DriverTaskEarnings(
                    reference=t.reference,
                    departure=t.departure,
                    stops=t.stops,
                    total=MoneyType.of(t.total),
                )
                for t in period.tasks
            ],
        )


@strawberry.type(description="No such task for you: none by that reference, or another driver's")
class TaskNotFound(UserError):
    task: str


@strawberry.type(description="The task was offered to you and is no longer (declined, or taken)")
class NotOfferedToYou(UserError):
    task: str


@strawberry.type(description="The offer lapsed before it was accepted; it goes to others")
class OfferExpired(UserError):
    task: str
    expired_at: datetime | None


@strawberry.type(
    description="You are on another route for that time: finish it before you take this one"
)
class AlreadyOnARoute(UserError):
    task: str
    busy_with: str  # the reference of the route you are on


@strawberry.type(description="The task is not in progress (not yet accepted, or finished)")
class TaskNotInProgress(UserError):
    task: str
    status: TaskStatus


@strawberry.type(description="A code is four digits; a malformed one costs no try")
class InvalidCode(UserError):
    pass


@strawberry.type(description="Stops are proved in order: `nextOrder` is the one at the door")
class WrongStop(UserError):
    order: str
    next_order: str | None


@strawberry.type(description="The code did not match the customer's")
class WrongCode(UserError):
    order: str
    tries_left: int


@strawberry.type(description="Three wrong codes: an operator takes this stop over")
class Escalated(UserError):
    order: str


@strawberry.type(
    description="Another problem was reported at this stop first: an operator has it already"
)
class ProblemAlreadyReported(UserError):
    order: str
    reason: DriverProblem
    reported_at: datetime


AcceptTaskError = Annotated[
    TaskNotFound | NotOfferedToYou | OfferExpired | AlreadyOnARoute,
    strawberry.union("AcceptTaskError"),
]
DeclineTaskError = Annotated[
    TaskNotFound | NotOfferedToYou | TaskNotInProgress, strawberry.union("DeclineTaskError")
]
ArriveAtStopError = Annotated[
    TaskNotFound | TaskNotInProgress | WrongStop, strawberry.union("ArriveAtStopError")
]
ReportProblemError = Annotated[
    TaskNotFound | TaskNotInProgress | WrongStop | ProblemAlreadyReported,
    strawberry.union("ReportProblemError"),
]
ConfirmDeliveryError = Annotated[
    TaskNotFound | TaskNotInProgress | InvalidCode | WrongStop | WrongCode | Escalated,
    strawberry.union("ConfirmDeliveryError"),
]


@strawberry.type(description="The accepted task, or `errors` saying why it was not")
class AcceptTaskPayload:
    task: DriverTask | None
    errors: list[AcceptTaskError]


@strawberry.type(description="The offer declined (it goes to the next driver), or `errors`")
class DeclineTaskPayload:
    task: str | None = strawberry.field(description="The reference of the task declined")
    already: bool = strawberry.field(
        description="True when it was no longer on offer to you: declined before, or lapsed"
    )
    errors: list[DeclineTaskError]


@strawberry.type(description="The stop you are at (ARRIVED), or `errors` saying why not")
class ArriveAtStopPayload:
    task: DriverTask | None
    stop: DriverStop | None
    errors: list[ArriveAtStopError]


@strawberry.type(description="The problem on record for the stop, or `errors` saying why not")
class ReportProblemPayload:
    task: DriverTask | None
    stop: DriverStop | None
    reason: DriverProblem | None
    reported_at: datetime | None
    already: bool = strawberry.field(
        description="True when this problem was reported at this stop before: nobody is told again"
    )
    errors: list[ReportProblemError]


@strawberry.type(description="The stop proved delivered, or `errors` saying why not")
class ConfirmDeliveryPayload:
    task: DriverTask | None
    stop: DriverStop | None
    earned: MoneyType | None = strawberry.field(
        description="What this stop paid the driver (null on a repeated confirmation)"
    )
    task_completed: bool
    errors: list[ConfirmDeliveryError]


def _order(order: Order, stop: DriverStop) -> DriverOrder:
    due = (
        order.payment_method is PaymentMethodModel.ON_DELIVERY
        and order.paid_at is None
        and order.status not in SETTLED
    )
    return DriverOrder(
        reference=order.reference,
        position=stop.position,
        customer_name=stop.customer_name,
        address=stop.address,
        status=order.status,
        lines=[DriverOrderLine(sku=i.sku, name=i.name, quantity=i.quantity) for i in order.lines],
        payment_method=PaymentMethod(order.payment_method.value),
        collect=MoneyType.of(order.total.in_cash() if due else Money.zero(order.total.currency)),
    )


async def _names(info: Info, tasks: list[Task]) -> dict[Phone, str | None]:
    """The names of the customers at these tasks' doors, in one read for the whole page."""
    phones = {stop.customer for task in tasks for stop in task.stops}
    found = await info.context.services.customers.many(phones)
    return {phone: found[phone].name if phone in found else None for phone in phones}


async def _view(
    info: Info,
    task: Task,
    expires: datetime | None = None,
    viewer: Worker | None = None,
    names: dict[Phone, str | None] | None = None,
) -> DriverTask:
    """`viewer`: the driver asking, who alone reads the orders of a task assigned to him.
    `names`: the page's customer names, read once for all its tasks (else this task's)."""
    if names is None:
        names = await _names(info, [task])
    return DriverTask(
        reference=task.reference,
        status=task.status,
        departure=task.departure,
        units=task.units,
        km=task.km,
        stops=[_stop(s, names[s.customer]) for s in task.stops],
        offer_expires_at=expires,
        yours=viewer is not None and task.worker_id == viewer.id and task.status in CARRIED,
    )


def _stop(stop: TaskStop, name: str | None) -> DriverStop:
    return DriverStop(
        position=stop.position,
        order_reference=stop.order_reference,
        address=stop.address,
        customer_name=name,
        units=stop.units,
        status=stop.status,
    )


async def _me(info: Info) -> Worker:
    """The signed-in driver's worker record: only drivers act on tasks, each as themselves."""
    principal = require(info.context.principal, Role.DRIVER)
    worker = await _worker(info, principal.subject)
    if worker is None:
        raise forbidden(f"{principal.subject} is not a registered driver")
    _not_suspended(worker)
    return worker


def _not_suspended(worker: Worker) -> None:
    """A suspended driver works no more, as the drivers' IVR no longer answers him: every
    driver operation is FORBIDDEN, with `reason` DRIVER_SUSPENDED so his app can say why."""
    if worker.status is WorkerStatus.SUSPENDED:
        error = forbidden(f"{worker.phone.e164} is suspended: call the operator")
        assert error.extensions is not None
        error.extensions["reason"] = "DRIVER_SUSPENDED"
        raise error


async def _worker(info: Info, raw: str) -> Worker | None:
    try:
        phone = Phone.parse(raw.strip())
    except InvalidPhoneError as exc:
        raise ClientError("BAD_USER_INPUT", f"driver: {exc}") from exc
    return await info.context.services.gig.worker_by_phone(phone)


def _same_phone(principal: Principal, raw: str) -> bool:
    try:
        return Phone.parse(raw.strip()).e164 == principal.subject
    except InvalidPhoneError:
        return False


@strawberry.type
class DriversQuery:
    @strawberry.field(
        description="A driver's open offer, then the tasks taken, newest departure first (yours, "
        "unless you are an operator or admin); `first` of them (20 unless said, at most 100) "
        "after the task whose reference is `after`"
    )
    async def tasks(
        self,
        info: Info,
        driver: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> list[DriverTask]:
        principal = require(info.context.principal, Role.DRIVER, Role.OPERATOR, Role.ADMIN)
        wanted = driver or principal.subject
        if principal.role is Role.DRIVER and not _same_phone(principal, wanted):
            raise forbidden("you may see only your own tasks")
        size = page_size(first)
        worker = await _worker(info, wanted)
        if worker is None:
            if principal.role is Role.DRIVER:
                raise forbidden(f"{principal.subject} is not a registered driver")
            return []
        if principal.role is Role.DRIVER:
            _not_suspended(worker)
        gig = info.context.services.gig
        viewer = worker if principal.role is Role.DRIVER else None
        # A driver's history grows by a route a day: today's work comes first, and each page
        # reads the orders of its own tasks only.
        found: list[tuple[Task, datetime | None]] = []
        offered = await gig.open_offer(worker.id)
        if offered is not None:
            offer, task = offered
            found.append((task, offer.expires_at))
        found.extend((t, None) for t in reversed(await gig.tasks_of(worker.id)))
        start = 0
        if after is not None:
            reference = after.strip().upper()
            index = next((i for i, (t, _) in enumerate(found) if t.reference == reference), None)
            if index is None:
                raise ClientError(
                    "BAD_USER_INPUT", f"unknown cursor {after!r}: not a task of yours"
                )
            start = index + 1
        page = found[start : start + size]
        names = await _names(info, [t for t, _ in page])
        return [await _view(info, t, expires, viewer, names) for t, expires in page]

    @strawberry.field(
        description="What you earned, as the IVR's earnings line: in total and per route, on "
        "your region's days `from` to `to` (both included; each today unless said, at most "
        f"{MAX_EARNINGS_DAYS} days)"
    )
    async def earnings(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> DriverEarnings:
        worker = await _me(info)
        gig = info.context.services.gig
        last = to or await gig.local_today(worker.id)
        first = from_ or last
        if first > last:
            raise ClientError("BAD_USER_INPUT", f"from ({first}) is after to ({last})")
        if last - first >= timedelta(days=MAX_EARNINGS_DAYS):
            raise ClientError(
                "BAD_USER_INPUT", f"from {first} to {last} is over {MAX_EARNINGS_DAYS} days"
            )
        return DriverEarnings.of(await gig.earned(worker.id, first, last))


@strawberry.type
class DriversMutation:
    @strawberry.mutation(
        description="Take the route on offer to you: the orders are dispatched and each "
        "customer gets their delivery code by SMS. Accepting again returns the task."
    )
    async def accept_task(self, info: Info, task: str) -> AcceptTaskPayload:
        worker = await _me(info)
        gig = info.context.services.gig
        found = await gig.task_by_reference(task.strip().upper())
        missing = _refused(TaskNotFound(message=f"no task {task}", task=task))
        if found is None:
            return missing
        if found.worker_id == worker.id:  # a retry after success: the same answer
            return AcceptTaskPayload(task=await _view(info, found, viewer=worker), errors=[])
        await gig.expire_offers()
        mine = [o for o in await gig.offers(found.id) if o.worker_id == worker.id]
        if not mine:
            # Never offered to you: answered as a missing task, word for word, so a driver
            # trying references learns nothing about other drivers' routes.
            return missing
        latest = max(mine, key=lambda o: o.offered_at)
        if latest.status not in (OfferStatus.OPEN, OfferStatus.EXPIRED):
            return _refused(
                NotOfferedToYou(message=f"{found.reference} is not on offer to you", task=task)
            )
        if latest.status is OfferStatus.OPEN:
            try:
                accepted = await gig.accept(latest.id)
            except DriverBusyError as exc:
                return _refused(
                    AlreadyOnARoute(
                        message=f"you are on route {exc.busy_with}: finish it before you take"
                        f" {found.reference}",
                        task=task,
                        busy_with=exc.busy_with,
                    )
                )
            except OfferClosedError:
                # Lapsed between the two reads, or taken by his own other tap meanwhile.
                again = await gig.task(found.id)
                if again.worker_id == worker.id:
                    return AcceptTaskPayload(
                        task=await _view(info, again, viewer=worker), errors=[]
                    )
            else:
                return AcceptTaskPayload(task=await _view(info, accepted, viewer=worker), errors=[])
        return _refused(
            OfferExpired(
                message=f"the offer of {found.reference} has lapsed",
                task=task,
                expired_at=latest.expires_at,
            )
        )

    @strawberry.mutation(
        description="Say no to the route on offer to you, as pressing 2 on the IVR: it is offered"
        " to the next driver at once, and never to you again. Declining again changes nothing."
    )
    async def decline_task(self, info: Info, task: str) -> DeclineTaskPayload:
        worker = await _me(info)
        gig = info.context.services.gig
        found = await gig.task_by_reference(task.strip().upper())
        missing = DeclineTaskPayload(
            task=None, already=False, errors=[TaskNotFound(message=f"no task {task}", task=task)]
        )
        if found is None:
            return missing
        await gig.expire_offers()
        mine = [o for o in await gig.offers(found.id) if o.worker_id == worker.id]
        if not mine:  # never offered to you: answered as a missing task, word for word
            return missing
        if found.worker_id == worker.id or any(o.status is OfferStatus.ACCEPTED for o in mine):
            return DeclineTaskPayload(task=None, already=False, errors=[_taken_by_you(found, task)])
        latest = max(mine, key=lambda o: o.offered_at)
        if latest.status is OfferStatus.OPEN:
            try:
                await gig.decline(latest.id)
            except OfferClosedError:  # lapsed or declined by another tap meanwhile
                return DeclineTaskPayload(task=found.reference, already=True, errors=[])
            return DeclineTaskPayload(task=found.reference, already=False, errors=[])
        return DeclineTaskPayload(task=found.reference, already=True, errors=[])

    @strawberry.mutation(
        description="Say you are at the next stop's door, as pressing 1 on the IVR: its "
        "customer's order shows the driver at the door. `order` (optional) names the stop you "
        "are at. Saying it again changes nothing."
    )
    async def arrive_at_stop(
        self, info: Info, task: str, order: str | None = None
    ) -> ArriveAtStopPayload:
        worker = await _me(info)
        gig = info.context.services.gig
        found = await gig.task_by_reference(task.strip().upper())
        if found is None or not await _yours(info, found, worker):
            # Another driver's task answers as a missing one: references tell nothing.
            return _not_there(TaskNotFound(message=f"no task {task}", task=task))
        at_door = found.next_stop
        named = _named_stop(found, order)
        refused = _not_at_next_door(found, named, order, task)
        if refused is not None or at_door is None:
            return _not_there(refused or _idle(found, task))
        try:
            await gig.arrive(found.id, worker.id, position=at_door.position)
        except TaskStateError as exc:  # proved, taken off or expired meanwhile
            after = await gig.task(found.id)
            return _not_there(_moved_on(after, exc, order or at_door.order_reference, task))
        after = await gig.task(found.id)
        view = await _view(info, after, viewer=worker)
        stop = next((s for s in view.stops if s.position == at_door.position), None)
        return ArriveAtStopPayload(task=view, stop=stop, errors=[])

    @strawberry.mutation(
        description="Report a problem at the next stop, as the IVR's problem menu: an operator "
        "takes the stop over (ESCALATED; VEHICLE: every open stop of the route) and will call "
        "you, and your next stop becomes current. Once per stop: reporting it again changes "
        "nothing. `order` (optional) names the stop you are at; send it, so that a retry is "
        "answered rather than taken for a problem at the next door."
    )
    async def report_problem(
        self, info: Info, task: str, reason: DriverProblem, order: str | None = None
    ) -> ReportProblemPayload:
        worker = await _me(info)
        gig = info.context.services.gig
        found = await gig.task_by_reference(task.strip().upper())
        if found is None or not await _yours(info, found, worker):
            # Another driver's task answers as a missing one: references tell nothing.
            return _unreported(TaskNotFound(message=f"no task {task}", task=task))
        kind = IncidentKind(reason.value)
        at_door = found.next_stop
        named = _named_stop(found, order)
        if named is not None and not named.open:
            # A retry after the answer was lost: the report handed the stop to an operator
            # (and may have finished the route); the report on record answers it.
            with suppress(TaskStateError):
                report = await gig.report_problem(
                    found.id, worker.id, kind, position=named.position
                )
                return await _reported(info, found, worker, named, reason, report)
        refused = _not_at_next_door(found, named, order, task)
        if refused is not None or at_door is None:
            return _unreported(refused or _idle(found, task))
        try:
            report = await gig.report_problem(found.id, worker.id, kind, position=at_door.position)
        except TaskStateError as exc:  # proved, taken off or expired meanwhile
            after = await gig.task(found.id)
            return _unreported(_moved_on(after, exc, order or at_door.order_reference, task))
        return await _reported(info, found, worker, at_door, reason, report)

    @strawberry.mutation(
        description="Prove the next stop with the customer's 4-digit code; three wrong codes "
        "hand the stop to an operator. `order` (optional) names the stop you are at."
    )
    async def confirm_delivery(
        self, info: Info, task: str, code: str, order: str | None = None
    ) -> ConfirmDeliveryPayload:
        worker = await _me(info)
        gig = info.context.services.gig
        found = await gig.task_by_reference(task.strip().upper())
        if found is None or not await _yours(info, found, worker):
            # Another driver's task answers as a missing one: references tell nothing.
            return _unproved(TaskNotFound(message=f"no task {task}", task=task))
        at_door = found.next_stop
        named = _named_stop(found, order)
        digits = code.strip()
        well_formed = len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit()
        again = await _sent_again(
            info, found, worker, named, order, digits if well_formed else None
        )
        if again is not None:
            return again
        refused = _not_at_next_door(found, named, order, task)
        if refused is not None or at_door is None:
            return _unproved(refused or _idle(found, task))
        if not well_formed:
            return _unproved(InvalidCode(message="the delivery code is four digits"))
        try:
            result = await gig.confirm_delivery(
                found.id, worker.id, digits, position=at_door.position
            )
        except TaskStateError as exc:  # another tap or device proved or closed it meanwhile
            after = await gig.task(found.id)
            stop = next((s for s in after.stops if s.position == at_door.position), None)
            if stop is None:  # its order was cancelled meanwhile: off the route
                return _off_the_route(task, at_door.order_reference, after)
            if stop.status is StopStatus.DELIVERED:  # answered as a retry naming it
                return _proved(
                    await _view(info, after, viewer=worker), stop, None, not after.next_stop
                )
            if stop.status in (StopStatus.ESCALATED, StopStatus.RETURNED):
                return _unproved(
                    Escalated(message="an operator has this stop", order=stop.order_reference)
                )
            return _unproved(TaskNotInProgress(message=str(exc), task=task, status=after.status))
        reference = at_door.order_reference
        match result.outcome:
            case CodeCheck.WRONG:
                return _unproved(
                    WrongCode(
                        message=f"wrong code, {result.attempts_left} tries left",
                        order=reference,
                        tries_left=result.attempts_left,
                    )
                )
            case CodeCheck.ESCALATED:
                return _unproved(
                    Escalated(message="three wrong codes: an operator will call", order=reference)
                )
        after = await gig.task(found.id)
        stop = next(s for s in after.stops if s.position == at_door.position)
        return _proved(
            await _view(info, after, viewer=worker), stop, result.earned, result.task_completed
        )


async def _reported(  # noqa: PLR0917 - one answer built from the resolver's reads
    info: Info,
    found: Task,
    worker: Worker,
    door: TaskStop,
    reason: DriverProblem,
    report: ProblemReport,
) -> ReportProblemPayload:
    """The report on record for `door`: the stop as it is now (handed to an operator), or
    ProblemAlreadyReported when another reason was reported there first."""
    first = report.incident
    on_record = DriverProblem(first.kind.value)
    if on_record is not reason:
        return _unreported(
            ProblemAlreadyReported(
                message=f"{on_record.value} was reported at this stop already",
                order=door.order_reference,
                reason=on_record,
                reported_at=first.reported_at,
            )
        )
    view = await _view(info, await info.context.services.gig.task(found.id), viewer=worker)
    return ReportProblemPayload(
        task=view,
        stop=next((s for s in view.stops if s.position == door.position), None),
        reason=on_record,
        reported_at=first.reported_at,
        already=report.already,
        errors=[],
    )


async def _sent_again(  # noqa: PLR0917 - the resolver's reads
    info: Info,
    found: Task,
    worker: Worker,
    named: TaskStop | None,
    order: str | None,
    digits: str | None,
) -> ConfirmDeliveryPayload | None:
    """A proof sent again, its answer lost: what happened to that door, and no code tried
    again. Named by its order, the stop it names once closed; without one, the closed stop
    its code proved (the last door's too), not read as a wrong code at the next door, where
    it would cost that customer a try."""
    if order is not None:
        if named is None or named.open:
            return None
        if named.status in (StopStatus.ESCALATED, StopStatus.RETURNED):
            return _unproved(Escalated(message="an operator has this stop", order=order))
        done: TaskStop | None = named
    elif digits is not None and found.status in CARRIED:
        done = await info.context.services.gig.proved_with(found.id, digits)
    else:
        done = None
    if done is None:
        return None
    view = await _view(info, found, viewer=worker)
    return _proved(view, done, None, found.next_stop is None)


def _off_the_route(task: str, order: str, after: Task) -> ConfirmDeliveryPayload:
    """The stop's order was cancelled after the route was read: answered as a stop taken off
    before, the next stop at the door, or the route no longer in progress."""
    if after.status is TaskStatus.ASSIGNED and after.next_stop is not None:
        return _unproved(
            WrongStop(
                message=f"order {order} was cancelled; the next stop is order "
                f"{after.next_stop.order_reference}",
                order=order,
                next_order=after.next_stop.order_reference,
            )
        )
    return _unproved(
        TaskNotInProgress(
            message=f"order {order} was cancelled; {after.reference} is {after.status.value}",
            task=task,
            status=after.status,
        )
    )


def _taken_by_you(found: Task, task: str) -> DeclineTaskError:
    """Why a route the driver took cannot be declined: it is his to drive, or, no longer in
    progress, what became of it."""
    match found.status:
        case TaskStatus.EXPIRED:
            said = f"{found.reference} expired when its day ended: nobody drives it now"
        case TaskStatus.CANCELLED:
            said = f"{found.reference} was cancelled: no order is left on it"
        case TaskStatus.COMPLETED:
            said = f"you drove {found.reference}: it is finished"
        case _:
            return NotOfferedToYou(
                message=f"you took {found.reference}: it is yours to drive", task=task
            )
    return TaskNotInProgress(message=said, task=task, status=found.status)


async def _yours(info: Info, task: Task, worker: Worker) -> bool:
    """Taken by `worker`, or not taken by anyone and offered to him (told to take it first)."""
    if task.worker_id is not None:
        return task.worker_id == worker.id
    return any(o.worker_id == worker.id for o in await info.context.services.gig.offers(task.id))


def _named_stop(task: Task, order: str | None) -> TaskStop | None:
    if order is None:
        return None
    wanted = order.strip().upper()
    return next((s for s in task.stops if s.order_reference.upper() == wanted), None)


def _not_at_next_door(
    found: Task, named: TaskStop | None, order: str | None, task: str
) -> TaskNotInProgress | WrongStop | None:
    """Why a door operation (arrive, report, confirm) cannot run now, if it cannot: the route
    is not being driven, or the app names another stop than the next one."""
    at_door = found.next_stop
    if found.status is not TaskStatus.ASSIGNED or at_door is None:
        return _idle(found, task)
    if order is not None and (named is None or named.position != at_door.position):
        return WrongStop(
            message=f"the next stop is order {at_door.order_reference}",
            order=order,
            next_order=at_door.order_reference,
        )
    return None


def _moved_on(
    after: Task, exc: TaskStateError, order: str, task: str
) -> TaskNotInProgress | WrongStop:
    """What a door operation answers when the route moved on under it (a stop proved, taken
    off or the route expired meanwhile): the stop that is next now, or why there is none."""
    if after.status is TaskStatus.ASSIGNED and after.next_stop is not None:
        return WrongStop(
            message=f"the next stop is order {after.next_stop.order_reference}",
            order=order,
            next_order=after.next_stop.order_reference,
        )
    return TaskNotInProgress(message=str(exc), task=task, status=after.status)


def _idle(found: Task, task: str) -> TaskNotInProgress:
    return TaskNotInProgress(
        message=f"{found.reference} is {found.status.value}", task=task, status=found.status
    )


def _refused(error: AcceptTaskError) -> AcceptTaskPayload:
    return AcceptTaskPayload(task=None, errors=[error])


def _not_there(error: ArriveAtStopError) -> ArriveAtStopPayload:
    return ArriveAtStopPayload(task=None, stop=None, errors=[error])


def _unreported(error: ReportProblemError) -> ReportProblemPayload:
    return ReportProblemPayload(
        task=None, stop=None, reason=None, reported_at=None, already=False, errors=[error]
    )


def _unproved(error: ConfirmDeliveryError) -> ConfirmDeliveryPayload:
    return ConfirmDeliveryPayload(
        task=None, stop=None, earned=None, task_completed=False, errors=[error]
    )


def _proved(
    task: DriverTask, stop: TaskStop, earned: Money | None, completed: bool
) -> ConfirmDeliveryPayload:
    return ConfirmDeliveryPayload(
        task=task,
        stop=_stop(stop, next(s.customer_name for s in task.stops if s.position == stop.position)),
        earned=MoneyType.of(earned) if earned is not None else None,
        task_completed=completed,
        errors=[],
    )
