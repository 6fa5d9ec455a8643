"""M-Pesa delivering one STK callback several times at once (its retry racing the first, or
two Daraja nodes), through the real endpoint on SQLite and PostgreSQL: the order is paid once,
one receipt SMS goes out, and the money is on the ledger once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.phone import Phone
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes, events

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def test_one_mpesa_callback_posted_four_times_at_once_pays_the_order_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    for label in ("Nunua", "Tambi na Pasta", "Indomie Chicken"):
        await juma.choose(label)
    await juma.press("3")
    for label in ("Lipia", "Chagua malipo", "M-Pesa", "Thibitisha"):
        await juma.choose(label)
    [order] = await services.orders.recent(Phone(JUMA))
    push = fakes.daraja.push_for("254711000001")
    target, body = fakes.daraja.pay(push)

    answers = await asyncio.gather(
        *(
            gateway.post(target, data=body, headers={"Content-Type": "application/json"})
            for _ in range(4)
        )
    )

    # Daraja is told each time that the callback was taken, so it stops sending it.
    assert [answer.status for answer in answers] == [200] * 4
    for answer in answers:
        assert (await answer.json())["ResultCode"] == 0
    assert (await services.orders.get(order.reference)).paid_at is not None
    assert len(await events(services, "PaymentSucceeded")) == 1
    await flush_outbox(services)
    receipts = [sms.message for sms in fakes.sms.sent_to(JUMA) if "Risiti" in sms.message]
    assert receipts == [
        f"OmniRoute: tumepokea KES 2,522.00 kwa oda {order.reference}. Risiti {push.receipt}. "
        "Asante!"
    ]
    assert services.money is not None
    held = await services.money.ledger.account("rail:mpesa:KES")
    assert held.balance == Money(Decimal("2522.00"), "KES")
