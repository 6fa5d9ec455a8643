"""Racing retries on SQLite and PostgreSQL: one intent, one provider request, one effect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.payments import (
    CallbackRequest,
    CreatePayment,
    IntentStatus,
    Method,
    PaymentService,
)
from tests.support.providers.payments import PaymentFakes, events

NGOZI = Phone("+2348030000001")


@pytest.fixture
async def racing(any_database_url: str, fakes: PaymentFakes) -> AsyncIterator[Services]:
    built = build_services(fakes.settings(any_database_url), clock=SteppedClock(), ids=RandomIds())
    yield built
    await built.close()


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


async def test_concurrent_retries_with_one_key_make_one_intent_and_one_request(
    racing: Services, fakes: PaymentFakes
) -> None:
    command = CreatePayment(
        idempotency_key="race-1",
        method=Method.MOMO,
        amount=Money(Decimal("2500.00"), "NGN"),
        customer=NGOZI,
    )
    intents = await asyncio.gather(*(payments(racing).pay(command) for _ in range(8)))
    assert len({i.id for i in intents}) == 1
    assert len(fakes.momo.payments) == 1
    posts = [r for r in fakes.momo.requests if r.method == "POST" and "requesttopay" in r.path]
    assert len(posts) == 1


async def test_one_webhook_delivered_concurrently_has_one_effect(
    racing: Services, fakes: PaymentFakes
) -> None:
    intent = await payments(racing).pay(
        CreatePayment(
            idempotency_key="race-2",
            method=Method.PAYSTACK,
            amount=Money(Decimal("26993.25"), "NGN"),
            customer=NGOZI,
        )
    )
    body, headers = fakes.paystack.customer_dials(intent.reference)
    rail = payments(racing).rail("paystack")
    assert rail is not None
    answer = await rail.callback(
        CallbackRequest({k.lower(): v for k, v in headers.items()}, {}, body)
    )
    [notice] = answer.notices
    applied = await asyncio.gather(
        *(payments(racing).apply_callback("paystack", notice) for _ in range(8))
    )
    assert applied.count(True) == 1
    assert (await payments(racing).get(intent.id)).status is IntentStatus.SUCCEEDED
    assert len(await events(racing, "PaymentSucceeded")) == 1
