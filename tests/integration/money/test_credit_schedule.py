"""Credit reminders go out by themselves: the gateway's credit loop, once per credit, by day."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from tests.support.credit import DAY, credit_history
from tests.support.demo_template import seed_demo

NGOZI = Phone("+2348030000001")
HOUR = 3600


def ngn(amount: int) -> Money:
    return Money(Decimal(amount), "NGN")


async def _reminders(services: Services) -> list[str]:
    return [
        d.dedupe_key
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-")
    ]


@pytest.fixture
async def gateway(any_database_url: str) -> AsyncIterator[tuple[Services, SteppedClock]]:
    """The services a gateway runs, with the credit loop ticking every 50 ms."""
    clock = SteppedClock()
    settings = Settings(
        env="test",
        database_url=any_database_url,
        credit_daily_every_seconds=0.05,
        _env_file=None,
    )
    built = build_services(settings, clock=clock, ids=RandomIds())
    await seed_demo(built.db, clock.now())
    yield built, clock
    await built.close()


async def _credit_due_in_two_days_at_six_in_the_morning(
    services: Services, clock: SteppedClock
) -> None:
    await credit_history(services, clock, NGOZI.e164)  # ends 09:00 UTC = 10:00 in Lagos
    credit = services.money.credit  # type: ignore[union-attr]
    await credit.decide(NGOZI)
    await credit.authorise("DUE001", NGOZI, ngn(5_000))  # due in 7 days
    await credit.delivered("DUE001", clock.now())  # at once
    clock.advance(5 * DAY - 4 * HOUR)  # two days before it is due, 06:00 in Lagos


async def test_no_reminder_at_night_then_one_reminder_however_often_the_pass_runs(
    gateway: tuple[Services, SteppedClock],
) -> None:
    services, clock = gateway
    loop = services.credit_daily
    assert loop is not None
    await _credit_due_in_two_days_at_six_in_the_morning(services, clock)
    assert (await loop.run_once()).reminders == []  # 06:00: too early for a debt reminder
    assert await _reminders(services) == []
    clock.advance(3 * HOUR)  # 09:00 in Lagos
    # two replicas' passes at the same moment, then an operator's `credit daily`
    runs = await asyncio.gather(loop.run_once(), loop.run_once())
    await services.money.credit.run_daily()  # type: ignore[union-attr]
    assert sorted(kind.value for run in runs for _, kind in run.reminders) == ["due_soon"]
    assert await _reminders(services) == ["credit-due_soon:DUE001"]
    clock.advance(3 * DAY)  # the day after the due date: the overdue reminder, once
    assert [k.value for _, k in (await loop.run_once()).reminders] == ["overdue"]
    assert (await loop.run_once()).reminders == []
    assert sorted(await _reminders(services)) == [
        "credit-due_soon:DUE001",
        "credit-overdue:DUE001",
    ]


async def test_the_gateway_sends_the_reminder_without_anyone_running_a_command(
    gateway: tuple[Services, SteppedClock],
) -> None:
    services, clock = gateway
    await _credit_due_in_two_days_at_six_in_the_morning(services, clock)
    clock.advance(3 * HOUR)
    await services.start()
    try:
        for _ in range(200):  # up to 10 s for the first pass (it waits one period first)
            await asyncio.sleep(0.05)
            if await _reminders(services):
                break
        await asyncio.sleep(0.3)  # several more passes
        assert await _reminders(services) == ["credit-due_soon:DUE001"]
    finally:
        await services.credit_daily.stop()  # type: ignore[union-attr]
