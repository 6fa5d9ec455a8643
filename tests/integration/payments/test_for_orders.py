"""A page of orders reads its payment intents in one query, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.payments import CreatePayment, Method
from tests.support.providers.payments import PaymentFakes

NGOZI = Phone("+2348030000001")


@pytest.fixture
async def built(any_database_url: str, fakes: PaymentFakes) -> AsyncIterator[Services]:
    services = build_services(
        fakes.settings(any_database_url), clock=SteppedClock(), ids=RandomIds()
    )
    yield services
    await services.close()


async def test_intents_come_back_grouped_by_order_oldest_first(built: Services) -> None:
    assert built.payments is not None
    made = []
    for key, order in (("a-1", "OR-A"), ("b-1", "OR-B"), ("a-2", "OR-A"), ("none", None)):
        made.append(
            await built.payments.create(
                CreatePayment(
                    idempotency_key=key,
                    method=Method.PAYSTACK,
                    amount=Money(Decimal("1000.00"), "NGN"),
                    customer=NGOZI,
                    order_reference=order,
                )
            )
        )
    found = await built.payments.for_orders(["or-a", "OR-B", "OR-C"])
    assert {r: [i.idempotency_key for i in v] for r, v in found.items()} == {
        "OR-A": ["a-1", "a-2"],
        "OR-B": ["b-1"],
        "OR-C": [],
    }
    assert await built.payments.for_orders([]) == {}
