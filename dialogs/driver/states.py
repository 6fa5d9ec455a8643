"""The drivers' IVR states: the offer or the next stop, the delivery code, problems, earnings.

Every screen works with DTMF alone: single-key choices, and the code keyed as four digits.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from decimal import Decimal

from core.money import Money
from core.region import zone
from dialogs.machine import Choice, Go, Outcome, Reject, Screen, State, Turn
from engines.gig import (
    CODE_DIGITS,
    DRIVER_PROBLEMS,
    CodeCheck,
    DriverBusyError,
    GigService,
    IncidentKind,
    OfferClosedError,
    OfferStatus,
    StopStatus,
    Task,
    TaskStateError,
    UnknownTaskError,
    Worker,
)
from engines.orders import Order, OrderService, OrderStatus, PaymentMethod, UnknownOrderError

HOME = "drv.home"
CODE = "drv.code"
PROBLEM = "drv.problem"
EARNINGS = "drv.earnings"
SETTLED = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.DELIVERED})


class DriverState(State):
    def __init__(self, gig: GigService) -> None:
        self.gig = gig

    async def worker(self, turn: Turn) -> Worker:
        found = await self.gig.worker_by_phone(turn.msg.phone)
        if found is None:  # only registered drivers are routed here
            raise TaskStateError(f"{turn.msg.phone} is not a driver")
        return found

    async def ended(self, turn: Turn) -> Outcome:
        """His route is no longer in progress: the order of the door he was sent to (or is at)
        was cancelled and took the route's last open door with it, so the route finished or was
        cancelled under him. He hears so, then what he has now; else just the latter."""
        raw = turn.vars.get("task")
        if isinstance(raw, str):
            with suppress(ValueError, UnknownTaskError):
                gone = _taken_off(turn, await self.gig.task(uuid.UUID(raw)))
                if gone is not None:
                    return gone
        return Go(HOME, remember=False)


class DriverHome(DriverState):
    """What the driver needs now: a route on offer, else the next stop, else nothing to do."""

    name = HOME

    async def screen(self, turn: Turn) -> Screen:
        worker = await self.worker(turn)
        task = await self.gig.current_task(worker.id)
        if task is not None and task.next_stop is not None:
            stop = task.next_stop
            # the door he is sent to: its order may be cancelled before he gets there
            turn.vars["stop"] = stop.position
            turn.vars["stop_order"] = stop.order_reference
            turn.vars["task"] = str(task.id)
            # at a door he already said he reached, 1 takes him back to the code
            at_door = stop.status is StopStatus.ARRIVED
            return Screen(
                turn.t(
                    "drv.next_stop",
                    position=stop.position,
                    # the route's numbering: a stop taken off it leaves its number unused
                    count=task.stops[-1].position,
                    address=stop.address,
                    order=" ".join(stop.order_reference),
                ),
                (
                    Choice(turn.t("drv.key_code" if at_door else "drv.arrived"), "arrived"),
                    Choice(turn.t("drv.problem"), "problem"),
                    Choice(turn.t("drv.earnings"), "earnings"),
                ),
                back=False,
            )
        offered = await self.gig.open_offer(worker.id)
        if offered is None and task is None:
            # A free driver on the line pulls work: open routes are offered now, not at the
            # next sweep (the allocation still picks the best driver, maybe someone else), a
            # route whose offer to him lapsed while he was not on the line included.
            await self.gig.allocate(calling=worker.id)
            offered = await self.gig.open_offer(worker.id)
        if offered is not None:
            offer, task = offered
            turn.vars["offer"] = str(offer.id)
            text = turn.t(
                "drv.offer",
                reference=" ".join(task.reference),
                stops=len(task.stops),
                km=_km(task.km),
                address=task.stops[0].address,
            )
            if task.departure > offer.offered_at:
                # when to be at the warehouse to load (local time): not at once, when it is later
                leaves = task.departure.astimezone(zone(task.region))
                text = f"{text}\n{turn.t('drv.departs', time=f'{leaves:%H:%M}')}"
            return Screen(
                text,
                (
                    Choice(turn.t("drv.accept"), "accept"),
                    Choice(turn.t("drv.decline"), "decline"),
                    Choice(turn.t("drv.earnings"), "earnings"),
                ),
                back=False,
            )
        text = turn.t("drv.idle", name=worker.name)
        if missing := await self.gig.missing_documents(worker.id):
            # a pending driver is never offered a route: say why, and what to hand in
            papers = ", ".join(turn.t(f"drv.document_{kind.value}") for kind in missing)
            text = turn.t("drv.idle_papers", name=worker.name, missing=papers)
        elif (off := await self.gig.off_shift(worker.id)) is not None:
            # nor is a driver on no shift now: say so, and when his shift starts today
            text = turn.t("drv.idle_off_shift", name=worker.name)
            if off.next_start is not None:
                starts = off.next_start.astimezone(zone(worker.region))
                text = f"{text}\n{turn.t('drv.shift_starts', time=f'{starts:%H:%M}')}"
        return Screen(
            text,
            (
                Choice(turn.t("drv.refresh"), "refresh"),
                Choice(turn.t("drv.earnings"), "earnings"),
            ),
            back=False,
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        match value:
            case "accept" | "decline":
                return await self._answer(turn, value)
            case "arrived":
                worker = await self.worker(turn)
                task = await self.gig.current_task(worker.id)
                if task is None:
                    return await self.ended(turn)
                if (gone := _taken_off(turn, task)) is not None:
                    return gone
                try:
                    stop = await self.gig.arrive(task.id, worker.id, position=_door(turn))
                except TaskStateError:  # that door was closed meanwhile (proved on his app)
                    return _closed(turn)
                # the door the code is for: its order may be cancelled while he is there
                turn.vars["stop"] = stop.position
                turn.vars["stop_order"] = stop.order_reference
                return Go(CODE)
            case "problem":
                return Go(PROBLEM)
            case "earnings":
                return Go(EARNINGS)
        return Go(HOME, remember=False)

    async def _answer(self, turn: Turn, value: str) -> Outcome:
        raw = str(turn.vars.pop("offer", ""))
        try:
            offer_id = uuid.UUID(raw)
        except ValueError:
            return Go(HOME, remember=False, notice=turn.t("drv.offer_gone"))
        try:
            if value == "accept":
                task = await self.gig.accept(offer_id)
                notice = turn.t(
                    "drv.accepted", reference=" ".join(task.reference), stops=len(task.stops)
                )
            else:
                await self.gig.decline(offer_id)
                notice = turn.t("drv.declined")
        except DriverBusyError as exc:
            notice = turn.t("drv.busy", reference=" ".join(exc.busy_with))
        except OfferClosedError:
            notice = await self._taken_meanwhile(turn, offer_id) or turn.t("drv.offer_gone")
        return Go(HOME, remember=False, notice=notice)

    async def _taken_meanwhile(self, turn: Turn, offer_id: uuid.UUID) -> str | None:
        """What he hears when the offer he answered is closed because he took it himself
        meanwhile (in his app): the route is his, not 'no longer on offer'."""
        task = await self.gig.current_task((await self.worker(turn)).id)
        if task is None or not any(
            o.id == offer_id and o.status is OfferStatus.ACCEPTED
            for o in await self.gig.offers(task.id)
        ):
            return None
        return turn.t("drv.accepted", reference=" ".join(task.reference), stops=len(task.stops))


class DeliveryCode(DriverState):
    """Four digits from the customer; three wrong tries hand the stop to an operator. At a
    pay-on-delivery door the driver is told first how much cash to take (the app's `collect`)."""

    name = CODE

    def __init__(self, gig: GigService, orders: OrderService) -> None:
        super().__init__(gig)
        self.orders = orders

    async def screen(self, turn: Turn) -> Screen:
        text = turn.t("drv.enter_code")
        reference = turn.vars.get("stop_order")
        if isinstance(reference, str) and reference:
            with suppress(UnknownOrderError):
                if (due := _cash_due(await self.orders.get(reference))) is not None:
                    text = f"{turn.t('drv.collect_cash', amount=due.format())}\n{text}"
        return Screen(text, prompt=True, length=CODE_DIGITS)

    async def enter(self, turn: Turn, text: str) -> Outcome:
        code = text.strip().rstrip("#")
        if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
            return Reject("drv.code_format")
        worker = await self.worker(turn)
        task = await self.gig.current_task(worker.id)
        if task is None:
            return await self.ended(turn)
        if (gone := _taken_off(turn, task)) is not None:
            return gone
        try:
            result = await self.gig.confirm_delivery(task.id, worker.id, code, position=_door(turn))
        except TaskStateError:  # that door was closed meanwhile: no try spent on the next
            return _closed(turn)
        match result.outcome:
            case CodeCheck.WRONG:
                return Reject("drv.code_wrong", {"left": result.attempts_left})
            case CodeCheck.ESCALATED:
                notice = turn.t("drv.code_escalated")
                after = await self.gig.current_task(worker.id)
                if after is not None and after.next_stop is not None:
                    notice = f"{notice} {turn.t('drv.go_on')}"
                return Go(HOME, remember=False, notice=notice)
        assert result.earned is not None
        notice = turn.t("drv.delivered", amount=result.earned.format())
        if result.task_completed:
            # no completion bonus for a route with a door handed to an operator
            done = "drv.route_done" if result.bonus is not None else "drv.route_done_no_bonus"
            notice = f"{notice}\n{turn.t(done)}"
        return Go(HOME, remember=False, notice=notice)


class Problem(DriverState):
    name = PROBLEM

    async def screen(self, turn: Turn) -> Screen:
        return Screen(
            turn.t("drv.problem_title"),
            tuple(Choice(turn.t(f"drv.problem_{k.value}"), k.value) for k in DRIVER_PROBLEMS),
        )

    async def choose(self, turn: Turn, value: str) -> Outcome:
        """The door he was sent to goes to an operator and he hears his next stop (a vehicle
        problem hands over the rest of the route)."""
        worker = await self.worker(turn)
        task = await self.gig.current_task(worker.id)
        if task is None:
            return await self.ended(turn)
        if (gone := _taken_off(turn, task)) is not None:
            return gone
        try:
            await self.gig.report_problem(
                task.id, worker.id, IncidentKind(value), position=_door(turn)
            )
        except TaskStateError:  # that door was closed meanwhile (proved on his app)
            return _closed(turn)
        kind = "vehicle" if value == IncidentKind.VEHICLE.value else "stop"
        notice = turn.t(f"drv.problem_reported_{kind}")
        after = await self.gig.current_task(worker.id)
        if after is not None and after.next_stop is not None:
            notice = f"{notice} {turn.t('drv.go_on')}"
        return Go(HOME, remember=False, notice=notice)


class Earnings(DriverState):
    name = EARNINGS

    async def screen(self, turn: Turn) -> Screen:
        worker = await self.worker(turn)
        today = await self.gig.today(worker.id)
        return Screen(turn.t("drv.earnings_today", total=today.total.format(), stops=today.stops))


def _km(km: Decimal) -> str:
    return f"{km.quantize(Decimal('0.1'))}"


def _cash_due(order: Order) -> Money | None:
    """The cash the driver takes at the door: a pay-on-delivery order's total rounded to the
    cash unit (nobody hands over cents), unless it was paid meanwhile or is settled (as the
    drivers' app's `collect`)."""
    if (
        order.payment_method is not PaymentMethod.ON_DELIVERY
        or order.paid_at is not None
        or order.status in SETTLED
    ):
        return None
    return order.total.in_cash()


async def at_door(gig: GigService, turn: Turn) -> bool:
    """Whether the caller's next stop is one he already said he reached (Arrived on an earlier
    call, or in his app): then the call starts at its code, that door's as Arrived sets it."""
    worker = await gig.worker_by_phone(turn.msg.phone)
    task = await gig.current_task(worker.id) if worker is not None else None
    stop = task.next_stop if task is not None else None
    if task is None or stop is None or stop.status is not StopStatus.ARRIVED:
        return False
    turn.vars.update(task=str(task.id), stop=stop.position, stop_order=stop.order_reference)
    return True


def driver_states(gig: GigService, orders: OrderService) -> list[State]:
    return [DriverHome(gig), DeliveryCode(gig, orders), Problem(gig), Earnings(gig)]


def _door(turn: Turn) -> int | None:
    """The stop the driver was told of (sent to, or at): what he presses and keys is for it."""
    door = turn.vars.get("stop")
    return door if isinstance(door, int) else None


def _closed(turn: Turn) -> Outcome:
    """The door he was told of was closed meanwhile (proved or handed over on his app): he
    hears so, and his next stop, rather than his key or code counting at the door after it."""
    door = turn.vars.pop("stop", None)
    turn.vars.pop("stop_order", None)
    notice = turn.t("drv.stop_closed", position=door) if isinstance(door, int) else None
    return Go(HOME, remember=False, notice=notice)


def _taken_off(turn: Turn, task: Task) -> Outcome | None:
    """The door the driver was sent to (or is at) came off his route, its order cancelled: he
    hears so, and his next stop, rather than arriving at or proving the stop after it."""
    door = turn.vars.get("stop")
    if not isinstance(door, int) or any(st.position == door for st in task.stops):
        return None
    order = str(turn.vars.pop("stop_order", ""))
    turn.vars.pop("stop", None)
    return Go(HOME, remember=False, notice=turn.t("drv.stop_cancelled", order=" ".join(order)))
