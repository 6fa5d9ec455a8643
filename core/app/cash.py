"""Cash taken at the door for pay-on-delivery orders, on the ledger: a bus subscriber between
orders, the gig platform and the books.

When such an order is delivered (its code proved on the drivers' IVR or app, or an operator
settled its door), she paid the driver what arrived: her receivable is cleared against that
driver's cash account (one per driver, in his region's currency), once per delivery however
often its event is relayed. A delivery no driver's route carried is taken at the depot. The
order itself was marked paid in the delivery's own transaction (engines.orders).

At the end of his day a driver hands what he holds in at the depot (`omniroute drivers
cash-in`): it moves from his cash to the distributor's depot cash, never more than he holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import structlog

from core.app.money import DISTRIBUTORS
from core.bus import EventBus, EventEnvelope
from core.clock import Clock
from core.money import Money, cash_unit
from core.phone import Phone
from core.region import RegionCode
from core.region import region as region_of
from engines.gig import GigService, UnknownWorkerError, Worker
from engines.ledger import Books, TransferRefusedError, TransferResult, chart
from engines.orders import OrderService, PaymentMethod
from engines.orders.events import OrderDelivered
from engines.settlement import Distributor

log = structlog.get_logger(__name__)


def distributor_for(currency: str) -> Distributor:
    """The distributor whose depot takes the cash of a region paying in `currency`."""
    return next(d for d in DISTRIBUTORS if d.currency == currency)


class CashCollection:
    def __init__(self, books: Books, orders: OrderService, gig: GigService) -> None:
        self._books = books
        self._orders = orders
        self._gig = gig

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderDelivered.topic, "cash-collection", self)

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = OrderDelivered.model_validate(envelope.data)
        order = await self._orders.get(event.reference)
        if order.payment_method is not PaymentMethod.ON_DELIVERY:
            return
        # what she owes for what arrived (a short delivery's invoice less its credit note)
        collected = Money(Decimal(event.total), order.total.currency)
        if collected.amount <= 0:
            return
        driver = await self._gig.carrier(event.reference)
        if driver is None:
            log.warning("cash.collected_without_driver", order=event.reference)
            holder = chart.depot_cash(distributor_for(collected.currency).name, collected.currency)
        else:
            holder = chart.driver_cash(driver.phone, collected.currency)
        # her number now (she may have changed it since the delivery was queued)
        await self._books.cash_collected(event.reference, order.customer, collected, holder)


class CashHandOverError(Exception):
    """A hand-over that cannot be recorded; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class CashHeld:
    driver: Worker
    cash: Money  # taken at doors, not yet handed in
    held_since: datetime | None = None  # when he took the oldest of it (None: he holds none)
    overdue: bool = False  # held longer than the depot allows


@dataclass(frozen=True, slots=True)
class HandedIn:
    driver: Worker
    amount: Money
    depot: str  # the distributor whose depot took it
    left: Money  # what he still holds
    key: str
    already: bool = False  # the same key was recorded before: nothing moved now


class DriverCash:
    """What each driver holds, and his hand-overs at the depot (the operators' commands)."""

    def __init__(
        self, books: Books, gig: GigService, clock: Clock, hold: timedelta = timedelta(hours=24)
    ) -> None:
        self._books = books
        self._gig = gig
        self._clock = clock
        self._hold = hold  # how long a driver may hold cash before it is overdue

    async def held(
        self, *, region: RegionCode | None = None, driver: Phone | None = None
    ) -> list[CashHeld]:
        """One row per driver (of `region`, or the one named), by region then phone; with
        when he took the oldest cash he still holds (he hands his oldest in first), overdue
        once that is longer ago than the depot allows."""
        if driver is not None:
            worker = await self._gig.worker_by_phone(driver)
            if worker is None or (region is not None and worker.region is not region):
                raise UnknownWorkerError(driver.e164)
            workers = [worker]
        else:
            workers = [
                w
                for r in ([region] if region else list(RegionCode))
                for w in await self._gig.workers(r)
            ]
        workers.sort(key=lambda w: (w.region.value, w.phone.e164))
        now = self._clock.now()
        rows = []
        for worker in workers:
            cash = await self._holds(worker)
            since = await self._held_since(worker, cash)
            overdue = since is not None and now - since > self._hold
            rows.append(CashHeld(worker, cash, since, overdue))
        return rows

    async def _held_since(self, worker: Worker, cash: Money) -> datetime | None:
        """When he took the oldest cash he still holds: his hand-overs paid off his oldest
        takings first, so what he holds is his latest, back to the one that makes it up."""
        if cash.amount <= 0:
            return None
        account = await self._books.ledger.find_account(
            chart.driver_cash(worker.phone, cash.currency).code
        )
        assert account is not None  # he holds cash on it
        journal = await self._books.ledger.transfers(account_ids=[account.id], codes=["cash"])
        counted = Money.zero(cash.currency)
        since = None
        for taken in reversed(journal):
            if taken.debit_account_id != account.id:
                continue
            counted += taken.amount
            since = taken.created_at
            if counted >= cash:
                break
        return since

    async def overdue(self, worker: Worker) -> Money:
        """Of the cash he holds, what he took longer ago than the depot allows: he hands his
        oldest in first, so it is what he holds beyond what he took since then (zero when he
        holds none of it)."""
        cash = await self._holds(worker)
        zero = Money.zero(cash.currency)
        if cash.amount <= 0:
            return zero
        account = await self._books.ledger.find_account(
            chart.driver_cash(worker.phone, cash.currency).code
        )
        assert account is not None  # he holds cash on it
        recent = await self._books.ledger.transfers(
            account_ids=[account.id], since=self._clock.now() - self._hold, codes=["cash"]
        )
        late = cash - sum((t.amount for t in recent if t.debit_account_id == account.id), zero)
        return late if late.amount > 0 else zero

    async def hand_in(self, driver: Phone, amount: Decimal, key: str | None = None) -> HandedIn:
        """Move `amount` of his cash to his region's depot, once per `key` (none: a new
        hand-over). Refused (CashHandOverError) for more than he holds, an amount that is not
        whole cash units of his currency (NGN 1, ZAR 0.10) unless it is all he holds (cents
        booked before the cash rounding clear with it), or a key already used for another
        amount; UnknownWorkerError for no driver."""
        worker = await self._gig.worker_by_phone(driver)
        if worker is None:
            raise UnknownWorkerError(driver.e164)
        currency = region_of(worker.region).currency
        if amount <= 0 or not (
            _whole_cash(amount, currency) or amount == (await self._holds(worker)).amount
        ):
            smallest = Money(cash_unit(currency), currency).short()
            raise CashHandOverError(
                f"{amount} is not an amount of {currency} cash: the smallest is {smallest}"
            )
        cash = Money(amount, currency)
        depot = distributor_for(currency).name
        key = key or uuid.uuid4().hex
        slip = chart.transfer_id("cash", driver.e164, "handed-in", key)
        earlier = await self._books.ledger.get_transfer(slip)
        if earlier is not None and earlier.amount != cash:
            raise _slip_used(key, earlier.amount)
        try:
            _, recorded = await self._books.cash_handed_in(driver, depot, cash, key)
        except TransferRefusedError as refused:
            if refused.result is TransferResult.EXISTS_WITH_DIFFERENT_FIELDS:
                # Another operator recorded this slip, for another amount, since we looked.
                first = await self._books.ledger.get_transfer(slip)
                assert first is not None  # the ledger refused it for clashing with this one
                raise _slip_used(key, first.amount) from refused
            if refused.result is not TransferResult.EXCEEDS_DEBITS:
                raise
            held = await self._holds(worker)
            raise CashHandOverError(
                f"{driver.e164} holds {held.format()}: cannot hand in {cash.format()}"
            ) from refused
        # an operator keying the same slip at the same moment recorded it: nothing moved now
        return HandedIn(worker, cash, depot, await self._holds(worker), key, not recorded)

    async def _holds(self, worker: Worker) -> Money:
        currency = region_of(worker.region).currency
        account = await self._books.ledger.find_account(
            chart.driver_cash(worker.phone, currency).code
        )
        return account.balance if account is not None else Money.zero(currency)


def _whole_cash(amount: Decimal, currency: str) -> bool:
    """What he took at doors is whole cash units (Money.in_cash: no kobo, no ZAR 0.05), so
    cents handed in are a typo; an amount too large to divide is none either."""
    try:
        return amount % cash_unit(currency) == 0
    except InvalidOperation:
        return False


def _slip_used(key: str, amount: Money) -> CashHandOverError:
    return CashHandOverError(f"--key {key} was used for another hand-over ({amount.format()})")
