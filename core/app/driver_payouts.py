"""Paying drivers and agents from the command line: a region's day of earnings (drivers) or
commissions (agents) -> the payout desk (core/app/payouts.py), which sends each on the
region's rail once and settles it on the rail's answer.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from core.app.cash import DriverCash
from core.app.payouts import (
    PAYOUT_METHODS,
    Payee,
    PayoutDesk,
    payout_due,
    pays_whole_units,
    really_sent,
)
from core.config import Settings
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.region import RegionCode, local_date, market_locale
from core.region import region as region_of
from engines.gig import PayoutStatus, Worker
from engines.settlement import PayoutOrder, PayoutOrderStatus
from engines.settlement.payout_orders import SENDABLE

if TYPE_CHECKING:
    from core.app.bootstrap import Services

__all__ = ["PAYOUT_METHODS", "PayReport", "pay_agents", "pay_drivers"]

OPEN = frozenset(
    {
        PayoutOrderStatus.QUEUED,
        PayoutOrderStatus.HELD,
        PayoutOrderStatus.SENDING,
        PayoutOrderStatus.RETRYING,
    }
)


@dataclass(slots=True)
class PayReport:
    region: str
    day: str
    sent: list[dict[str, str]] = field(default_factory=list)
    waiting: list[dict[str, str]] = field(default_factory=list)  # no rail yet, or retrying
    held: list[dict[str, str]] = field(default_factory=list)  # a person must act first
    failed: list[dict[str, str]] = field(default_factory=list)

    def add(self, order: PayoutOrder, row: dict[str, str]) -> None:
        row = row | {"payout": order.source, "status": order.status.value}
        if order.intent_id is not None:
            row["intent"] = str(order.intent_id)
        if order.reason:
            row["reason"] = order.reason
        match order.status:
            case PayoutOrderStatus.SENDING | PayoutOrderStatus.PAID:
                self.sent.append(row)
            case PayoutOrderStatus.HELD:
                self.held.append(row)
            case PayoutOrderStatus.FAILED:
                self.failed.append(row)
            case _:
                self.waiting.append(row)

    def as_json(self) -> dict[str, object]:
        return {
            "region": self.region,
            "date": self.day,
            "sent": self.sent,
            "pending": self.waiting,
            "held": self.held,
            "failed": self.failed,
        }


@dataclass(slots=True)
class _Account:
    """A driver's payouts in their order: what they earned and what they really sent, so that
    each payout sends what was not sent yet (on M-Pesa its whole shillings), the money of a
    payout that failed for good included (once: the next payout counts what this one sends)."""

    whole_units: bool
    earned: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    unsent: list[str] = field(default_factory=list)  # failed for good, not yet sent again
    unsent_on: date | None = None  # the day the last of them was earned

    def due(self, earned: Money) -> tuple[Money, Money]:
        return payout_due(self.earned, self.paid, earned, whole_units=self.whole_units)

    def closed(
        self, source: str, order: PayoutOrder | None, earned: Money, *, failed: bool
    ) -> None:
        """A payout not sent from this run: paid, failed, or on its way."""
        self.earned += earned.amount
        sent = really_sent(order, earned, failed=failed, whole_units=self.whole_units)
        self.paid += sent
        if failed and sent == 0:
            self.unsent.append(source)
        elif sent > 0:
            self.unsent.clear()

    def resent(self, order: PayoutOrder) -> None:
        """A payout that sent on its own the money of those that failed for good before it
        (`RESEND`): counted as sent, as the next payout would have sent it."""
        sent = really_sent(order, order.amount, failed=False, whole_units=self.whole_units)
        self.paid += sent
        if sent > 0:
            self.unsent.clear()

    def sent(
        self, order: PayoutOrder, earned: Money, due: Money, row: dict[str, str]
    ) -> dict[str, str]:
        """The payout this run sends (or an earlier run recorded): the report's row for it."""
        self.earned += earned.amount
        row = dict(row)
        if order.amount != due:  # recorded by an earlier run: it stands
            carried = self.earned - self.paid - order.amount.amount
            row["carried"] = str(Money(carried, earned.currency).amount)
        elif self.unsent and due.amount > 0:
            # what they did not send goes out with this one; the report says so
            row["resends"] = " ".join(self.unsent)
            self.unsent.clear()
        self.paid += really_sent(order, earned, failed=False, whole_units=self.whole_units)
        return row


# The source of a payout sending again the money of a driver's payout that failed for good when
# no payout came after it to take that money (he has not earned since): "again:gig:<payout id>".
RESEND = "again:"


def _desk(services: Services) -> PayoutDesk:
    assert services.payouts is not None, "payouts need the payments and money services"
    return services.payouts


async def pay_drivers(services: Services, region: RegionCode, day: date) -> PayReport:
    """Settle every driver of the region for `day` (and each earlier day whose earnings were
    never settled) and send what each is owed.

    An earlier day's payout still owed is in the report too, and sent again when it waits for
    a person or a rail (held: no bank account then, or one in another name; queued: no rail),
    as an agent's is: fixing the account the next day and paying that day pays both days.
    A driver holding cash overdue at the depot (`drivers cash` says so) is sent his pay less
    that cash (the row's `withheld`), the rest carried: handed in, it goes with his next
    payout, once."""
    desk, gig = _desk(services), services.gig
    assert services.money is not None, "drivers' cash is on the ledger"
    hold = timedelta(hours=services.settings.driver_cash_hold_hours)
    cash = DriverCash(services.money.books, gig, services.clock, hold)
    report = PayReport(region.value, day.isoformat())
    for worker in await gig.workers(region):
        # Each day up to `day` still holding earnings no payout took (a route proved after its
        # day's run, a day nobody ran) gets its own payout now, so none is left unpaid.
        settled = set()
        for unsettled in await gig.unsettled_days(worker.id, day):
            payout = await gig.settle(worker.id, unsettled)
            if payout is not None:
                settled.add(payout.id)
        payee = Payee("driver", worker.phone, worker.name, worker.region, worker.bank)
        account = _Account(pays_whole_units(worker.region))
        overdue = await cash.overdue(worker)  # kept back from what this run sends
        due_in = overdue  # what he must hand in for it to be paid
        for payout_id, earned, earned_on, status in await gig.payouts(worker.id):
            source = f"gig:{payout_id}"
            known = await desk.orders.by_source(source)
            amount, carried = account.due(earned)
            row = {
                "earned_on": earned_on.isoformat(),
                "earned": str(earned.amount),
                "carried": str(carried.amount),
            }
            if status != PayoutStatus.PENDING.value or earned_on > day:
                failed = status == PayoutStatus.FAILED.value
                account.closed(source, known, earned, failed=failed)
                if failed:
                    account.unsent_on = earned_on
                    await _resent(
                        desk, account, report, who=str(worker.id), payee=payee, source=source
                    )
                continue
            # An earlier day's: only one recorded before (a payout from before payout orders
            # may still be on its way: never sent a second time from here).
            if (
                earned_on < day
                and payout_id not in settled
                and (known is None or known.status not in SENDABLE)
            ):
                if known is not None:
                    report.add(known, _row(str(worker.id), payee, known.amount) | row)
                account.closed(source, known, earned, failed=False)
                continue
            before = amount
            amount, overdue = _withhold(account, amount, carried, overdue, row)
            kept = before - amount  # what was held back of his pay for the cash he holds
            order = await desk.pay(payee, amount, source, earn=True, earned=earned)
            if order.status in TEXTED and (order.amount.amount > 0 or kept.amount > 0):
                await _text_paid(services, worker, order, earned_on, kept=kept, cash=due_in)
            report.add(
                order,
                _row(str(worker.id), payee, order.amount)
                | account.sent(order, earned, amount, row),
            )
        if account.unsent and account.unsent_on is not None:
            # Money of payouts that failed for good, and no payout since to take it (he has
            # not earned again): it goes now on its own (his account fixed, say), once.
            amount, carried = account.due(Money.zero(region_of(worker.region).currency))
            row = {
                "earned_on": account.unsent_on.isoformat(),
                "earned": str(Money.zero(amount.currency).amount),
                "carried": str(carried.amount),
                "resends": " ".join(account.unsent),
            }
            amount, overdue = _withhold(account, amount, carried, overdue, row)
            if amount.amount > 0:
                order = await desk.pay(payee, amount, RESEND + account.unsent[-1], earn=False)
                report.add(order, _row(str(worker.id), payee, order.amount) | row)
    return report


async def pay_agents(services: Services, region: RegionCode, day: date) -> PayReport:
    """Pay each agent of the region the commissions in its wallet (on M-Pesa its whole
    shillings): one payout per agent and day, and none while an earlier one is still open (it
    is re-sent instead)."""
    assert services.money is not None
    desk, atc, ledger = _desk(services), services.money.atc, services.money.payouts
    currency = region_of(region).currency
    report = PayReport(region.value, day.isoformat())
    for agent in await atc.agents(region):
        payee = Payee("agent", agent.phone, agent.name, agent.region, agent.bank)
        open_orders = []
        for found in await desk.orders.of_person(agent.phone):
            if found.status not in OPEN:
                continue
            cancelled = await desk.cancel_unsendable(found)  # cents queued before whole shillings
            if cancelled is None:
                open_orders.append(found)
            else:
                report.add(cancelled, _row(agent.phone.e164, payee, cancelled.amount))
        if open_orders:
            for found in open_orders:
                order = found
                if found.status in (PayoutOrderStatus.QUEUED, PayoutOrderStatus.HELD):
                    order = await desk.pay(payee, found.amount, found.source, earn=False)
                report.add(order, _row(agent.phone.e164, payee, order.amount))
            continue
        wallet = await ledger.wallet("agent", agent.phone, currency)
        b = wallet.balances
        owed = Money(b.credits_posted - b.debits_posted - b.debits_pending, currency)
        if pays_whole_units(region):
            # M-Pesa sends whole shillings: the cents wait in the wallet for a later payout,
            # never a payout of cents alone that the rail cannot send (it would stay open, and
            # hold up every commission after it).
            owed = Money(owed.amount.quantize(Decimal(1), rounding=ROUND_FLOOR), currency)
        if owed.amount <= Decimal(0):
            continue
        order = await desk.pay(payee, owed, f"atc:{agent.phone.e164}:{day.isoformat()}", earn=False)
        # The day's payout as recorded: paid earlier that day, it stands (what was earned since
        # goes with the next day's), and the row says what it sent, not what is owed now.
        report.add(order, _row(agent.phone.e164, payee, order.amount))
    return report


async def _resent(
    desk: PayoutDesk, account: _Account, report: PayReport, *, who: str, payee: Payee, source: str
) -> None:
    """A payout that failed for good: the payout that sent its money on its own, if a run made
    one, counts as sent (re-sent while held or queued, and in the report while open)."""
    again = await desk.orders.by_source(RESEND + source)
    if again is None:
        return
    if again.status in SENDABLE:
        again = await desk.pay(payee, again.amount, again.source, earn=False)
    account.resent(again)
    if again.status in OPEN:
        report.add(again, _row(who, payee, again.amount))


def _withhold(
    account: _Account, amount: Money, carried: Money, overdue: Money, row: dict[str, str]
) -> tuple[Money, Money]:
    """While he still holds cash he should have handed in, it is netted out of his pay (the
    row says so), which stays in his wallet and goes with the first payout after he hands it
    in (the carry rule sends all he earned less what payouts really sent). Returns what the
    payout sends and the overdue cash not netted out yet."""
    if overdue.amount <= 0 or amount.amount <= 0:
        return amount, overdue
    kept = min(_whole(overdue) if account.whole_units else overdue, amount)
    row["carried"] = str((carried + kept).amount)
    row["withheld"] = str(kept.amount)
    return amount - kept, overdue - kept


# A payout on its way or paid: the driver is told so (one text per payout, by its source).
TEXTED = frozenset({PayoutOrderStatus.SENDING, PayoutOrderStatus.PAID})


async def _text_paid(
    services: Services, worker: Worker, order: PayoutOrder, day: date, *, kept: Money, cash: Money
) -> None:
    """Text the driver what this payout sends him for `day`, and what was held back of it
    until he hands in the overdue `cash` he holds; once per payout (its dedupe key), in his
    language. Not suppressed by STOP: it is his pay, not marketing."""
    locale = worker.locale or market_locale(worker.phone) or "en"
    values: dict[str, object] = {"amount": order.amount.format(), "date": day.isoformat()}
    key = "sms.driver_paid"
    if kept.amount > 0:
        key = "sms.driver_paid_withheld"
        values |= {"held": kept.format(), "cash": cash.format()}
    text = services.translate(locale, key, **values)
    with suppress(IntegrityError):  # a run at the same moment queued this payout's text: once
        await services.notifications.queue(
            OutboundMessage(
                provider=services.settings.sms_provider,
                kind=ChannelKind.SMS,
                to=worker.phone,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=f"driver-paid:{order.source}",
            )
        )


def _whole(amount: Money) -> Money:
    """Cash kept back from a whole-units payout (M-Pesa), rounded up to a whole unit."""
    return Money(amount.amount.quantize(Decimal(1), rounding=ROUND_CEILING), amount.currency)


def _row(who: str, payee: Payee, amount: Money) -> dict[str, str]:
    return {
        "worker" if payee.role == "driver" else "agent": who,
        "phone": payee.phone.e164,
        "name": payee.name,
        "amount": str(amount.amount),
        "currency": amount.currency,
    }


def pay_command(role: str, region: RegionCode, day: date | None) -> int:
    """`omniroute drivers pay` / `omniroute agents pay`: print the report as JSON."""
    report = asyncio.run(_pay(role, region, day))
    print(json.dumps(report.as_json(), indent=2))
    return 0


def pay_drivers_command(region: RegionCode, day: date | None) -> int:
    return pay_command("driver", region, day)


async def _pay(role: str, region: RegionCode, day: date | None) -> PayReport:
    from core.app.bootstrap import build_services  # noqa: PLC0415 - bootstrap wires this module

    services = build_services(Settings())
    try:
        # earnings are booked on the region's calendar day, so "today" is the region's too
        when = day or local_date(region, services.clock.now())
        if role == "agent":
            return await pay_agents(services, region, when)
        return await pay_drivers(services, region, when)
    finally:
        await services.close()
