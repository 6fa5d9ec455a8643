"""Whatever order callbacks, duplicates, requeries and retries come in, money moves once.

Hypothesis draws the provider's truth (paid or cancelled) and a sequence of deliveries of its
callback, requery passes and retried checkouts; the gateway, its database and the Daraja fake are
real and shared by the examples (each example pays with its own key).
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

from core.money import Money
from core.phone import Phone
from engines.payments import CreatePayment, IntentStatus, Method
from tests.support.payment_world import PaymentWorld, payment_world
from tests.support.providers.payments import events

ACTIONS = st.lists(st.sampled_from(["callback", "requery", "retry"]), max_size=7)
_keys = itertools.count(1)


World = PaymentWorld


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with payment_world(tmp_path) as shared:
        yield shared


async def scenario(world: World, paid: bool, actions: list[str]) -> None:
    command = CreatePayment(
        idempotency_key=f"prop-{next(_keys)}",
        method=Method.MPESA,
        amount=Money(Decimal(100), "KES"),
        customer=Phone("+254711000001"),
    )
    intent = await world.payments.pay(command)
    push = world.fakes.daraja.pushes[-1]
    target, body = world.fakes.daraja.pay(push) if paid else world.fakes.daraja.cancel(push)
    async with aiohttp.ClientSession() as session:
        for action in actions:
            if action == "callback":
                async with session.post(world.server.make_url(target), data=body) as response:
                    assert response.status == 200
            elif action == "requery":
                world.clock.advance(180)
                await world.payments.requery()
            else:
                assert (await world.payments.pay(command)).id == intent.id

    final = await world.payments.get(intent.id)
    heard = "callback" in actions or "requery" in actions
    expected = (
        (IntentStatus.SUCCEEDED if paid else IntentStatus.FAILED)
        if heard
        else IntentStatus.PROCESSING
    )
    assert final.status is expected
    mine = [
        e
        for e in await events(world.services, "PaymentSucceeded")
        if e["intent_id"] == str(intent.id)
    ]
    assert len(mine) == (1 if paid and heard else 0)
    pushes = [p for p in world.fakes.daraja.pushes if str(intent.id) in p.callback_url]
    assert len(pushes) == 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(paid=st.booleans(), actions=ACTIONS)
def test_any_order_of_callbacks_requeries_and_retries_moves_money_once(
    world: World, paid: bool, actions: list[str]
) -> None:
    world.loop.run_until_complete(scenario(world, paid, actions))
