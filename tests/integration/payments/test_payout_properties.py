"""Whatever a payout rail answers — success, refusal, silence, a success after we gave up, each
maybe delivered twice — what a payee earned is what the rail paid plus what their wallet still
holds, nothing stays held once the payout is final, no more than the attempts allowed are sent,
and the whole ledger balances.

Hypothesis draws the rail's answer to each attempt of a Cape Town payout (Paystack Transfers);
the gateway, its database and the Paystack fake are real and shared by the examples (each pays
its own agent).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.app.payouts import Payee, PayoutDesk
from core.bank import BankAccount
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.atc import Agent
from engines.settlement import PayoutOrderStatus
from tests.support.payment_world import PaymentWorld, payment_world
from tests.support.providers.africastalking import flush_outbox

ANSWERS = st.lists(
    st.tuples(st.sampled_from(["success", "failed", "reversed", "silent"]), st.booleans()),
    max_size=5,
)
AMOUNTS = st.lists(
    st.decimals(min_value=Decimal("1.00"), max_value=Decimal("900.00"), places=2),
    min_size=1,
    max_size=3,
)
_people = itertools.count(1)


class World(PaymentWorld):
    @property
    def desk(self) -> PayoutDesk:
        assert self.services.payouts is not None
        return self.services.payouts


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with payment_world(tmp_path) as shared:
        yield World(shared.loop, shared.fakes, shared.services, shared.server, shared.clock)


async def deliver(world: World, reference: str, event: str, twice: bool) -> None:
    body, headers = world.fakes.paystack.transfer_result(reference, event)
    async with aiohttp.ClientSession() as http:
        for _ in range(2 if twice else 1):
            url = str(world.server.make_url("/webhooks/paystack"))
            async with http.post(url, data=body, headers=headers) as answer:
                assert answer.status == 200
    await flush_outbox(world.services)


async def scenario(world: World, earned: list[Decimal], answers: list[tuple[str, bool]]) -> None:
    n = next(_people)
    agent = Agent(
        Phone(f"+2782{n:07d}"),
        "Thandi Mokoena",
        RegionCode.CAPE_TOWN,
        BankAccount("632005", f"40{n:08d}"),
    )
    assert world.services.money is not None
    await world.services.money.atc.register(agent)  # a retry reads the payee as on file
    payee = Payee("agent", agent.phone, agent.name, agent.region, agent.bank)
    desk, answers_left = world.desk, list(answers)
    for i, amount in enumerate(earned):
        order = await desk.pay(payee, Money(amount, "ZAR"), f"prop:{n}:{i}", earn=True)
        while order.status in (PayoutOrderStatus.SENDING, PayoutOrderStatus.RETRYING):
            if order.status is PayoutOrderStatus.RETRYING:
                world.clock.advance(desk.retry_after.total_seconds() * 2**order.attempts)
                await desk.sweep()
            else:
                answer, twice = answers_left.pop(0) if answers_left else ("success", False)
                assert order.intent_id is not None
                reference = order.intent_id.hex  # our reference at Paystack
                if answer == "silent":
                    world.clock.advance(desk.answer_within.total_seconds() + 1)
                    await desk.sweep()
                    await flush_outbox(world.services)
                    if twice:  # the rail did pay after all, late
                        await deliver(world, reference, "transfer.success", twice=False)
                else:
                    await deliver(world, reference, f"transfer.{answer}", twice)
            found = await desk.orders.get(order.id)
            assert found is not None
            order = found
        assert order.attempts <= desk.max_attempts

    assert world.services.money is not None
    wallet = await world.services.money.payouts.wallet("agent", payee.phone, "ZAR")
    paid_at_rail = sum(
        (
            Decimal(t["amount"]) / 100
            for t in world.fakes.paystack.transfers.values()
            if t["recipient"]["account_number"] == payee.bank.number  # type: ignore[union-attr]
            and t["status"] == "success"
        ),
        Decimal(0),
    )
    b = wallet.balances
    assert b.debits_pending == 0  # nothing is left held
    assert b.debits_posted == paid_at_rail  # the ledger paid what the rail paid
    assert wallet.balance.amount + b.debits_posted == sum(earned)  # earned = paid + owed
    for order in await desk.orders.of_person(payee.phone):
        assert order.status in (PayoutOrderStatus.PAID, PayoutOrderStatus.FAILED)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(earned=AMOUNTS, answers=ANSWERS)
def test_earnings_are_paid_out_or_still_owed_and_the_ledger_balances(
    world: World, earned: list[Decimal], answers: list[tuple[str, bool]]
) -> None:
    world.loop.run_until_complete(scenario(world, earned, answers))
    assert world.services.money is not None
    report = world.loop.run_until_complete(world.services.money.ledger.check())
    assert report.balanced, report
