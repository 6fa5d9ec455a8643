"""`omniroute orders return REF`: an operator returns a delivered order whose goods came back.
What a return does runs from the order's status event (the rail refunds what was paid, or it
stays her credit), and the command says which in one line; run twice it changes nothing the
second time; an unknown reference or an order that is not delivered is refused, exit 2."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from core.app.bootstrap import Services
from core.app.cli import main
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.ledger import chart
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Method
from tests.journeys.test_refunds import JUMA, NGOZI, place
from tests.journeys.test_returned_order_refunds import (
    TO_DISPATCHED,
    Client,
    about_her_money,
    books_balanced,
    refunds_of,
)
from tests.support.credit import credit_history
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


@pytest.fixture
def operator_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command runs in its own process, configured as the gateway is (same database, same
    rails)."""
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str | int) and not isinstance(value, bool):
            monkeypatch.setenv(f"OMNIROUTE_{name.upper()}", str(value))


async def give_back(*argv: str) -> int:
    """`omniroute orders return …` as an operator runs it."""
    return await asyncio.to_thread(main, ["orders", "return", *argv])


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


async def paid_and_delivered(
    gateway: Client, services: Services, fakes: PaymentFakes, method: Method
) -> Order:
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, f"cli-return-{method.value}")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",  # as the checkout keys it
            method=method,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    if method is Method.PAYSTACK:
        body, headers = fakes.paystack.customer_dials(intent.reference)
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    else:
        fakes.momo.approve(str(intent.id))
        target, body = fakes.momo.callback_for(str(intent.id))
        assert (await gateway.put(target, data=body)).status == 200
    await flush_outbox(services)
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    delivered = await services.orders.deliver(order.reference)
    await flush_outbox(services)
    return delivered


@pytest.mark.usefixtures("operator_env")
async def test_an_operator_returns_a_delivered_paystack_order_and_it_is_refunded_once(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    order = await paid_and_delivered(gateway, services, fakes, Method.PAYSTACK)

    assert await give_back(order.reference.lower(), "--reason", "cartons crushed") == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} returned, its goods back on the shelves: "
        f"a refund of {order.total.format()} is being asked on paystack"
    )
    await flush_outbox(services)
    assert (await services.orders.get(order.reference)).status is OrderStatus.RETURNED

    # A tired operator runs it again: it says so, and nothing happens twice.
    assert await give_back(order.reference) == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} was already returned: nothing done"
    )
    await flush_outbox(services)
    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [r["amount"] for r in sent] == [int(order.total.amount * 100)]
    [refund] = await refunds_of(services, order)
    assert refund.amount == order.total
    assert await books_balanced(services)


@pytest.mark.usefixtures("operator_env")
async def test_a_returned_momo_order_is_said_to_stay_her_credit(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    order = await paid_and_delivered(gateway, services, fakes, Method.MOMO)

    assert await give_back(order.reference) == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} returned, its goods back on the shelves: "
        f"{order.total.format()} kept as her credit (momo cannot refund)"
    )
    await flush_outbox(services)
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164) if about_her_money(s.message)]
    assert len(told) == 1
    assert told[0].endswith("Kept as credit on your account.")


@pytest.mark.usefixtures("operator_env")
async def test_a_returned_credit_order_is_said_to_release_her_credit(
    services: Services,
    fakes: PaymentFakes,
    clock: SteppedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert services.money is not None
    await credit_history(services, clock, NGOZI.e164)
    await services.money.credit.decide(NGOZI)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.CREDIT, "cli-c"
        )
    )
    await flush_outbox(services)
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED]:
        await services.orders.advance(order.reference, status)
    await flush_outbox(services)

    assert await give_back(order.reference) == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} returned, its goods back on the shelves: "
        f"her credit of {order.total.format()} released"
    )
    await flush_outbox(services)
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164) if about_her_money(s.message)]
    assert len(told) == 1
    assert told[0].endswith("You now owe NGN 0.00 on credit.")
    (credit,) = [
        c
        for c in await services.money.credit.credits(NGOZI)
        if c.order_reference == order.reference
    ]
    assert credit.outstanding.amount == 0


@pytest.mark.usefixtures("operator_env")
async def test_an_unknown_or_undelivered_order_is_refused_in_one_line(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await give_back("ZZZZ99") == 2
    assert last_line(capsys.readouterr().err) == "omniroute orders return: no order ZZZZ99"

    order = await place(services, NGOZI, RegionCode.LAGOS, "cli-return-placed")
    assert await give_back(order.reference) == 2
    assert last_line(capsys.readouterr().err) == (
        f"omniroute orders return: order {order.reference} is placed: "
        "only a delivered order is returned"
    )
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    assert await give_back(order.reference) == 2
    assert last_line(capsys.readouterr().err).endswith(
        "only a delivered order is returned"
        " (goods that came back undelivered: `omniroute deliveries resolve`)"
    )
    assert (await services.orders.get(order.reference)).status is OrderStatus.DISPATCHED


@pytest.mark.usefixtures("operator_env")
@pytest.mark.parametrize(
    ("who", "market", "kept"),
    [
        (NGOZI, RegionCode.LAGOS, "Kept as credit on your account."),
        (JUMA, RegionCode.NAIROBI, "Ni salio lako sasa."),
    ],
)
async def test_a_returned_cash_order_keeps_the_cash_she_paid_at_the_door_as_her_credit(
    services: Services,
    fakes: PaymentFakes,
    capsys: pytest.CaptureFixture[str],
    who: Phone,
    market: RegionCode,
    kept: str,
) -> None:
    assert services.money is not None
    order = await services.orders.place(
        PlaceOrder(
            who, market, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.ON_DELIVERY, "cli-cash"
        )
    )
    await flush_outbox(services)
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    delivered = await services.orders.deliver(order.reference)  # she pays in cash at the door
    await flush_outbox(services)

    assert await give_back(order.reference) == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} returned, its goods back on the shelves: "
        f"her cash of {delivered.total.in_cash().format()} kept as her credit"
    )
    await flush_outbox(services)
    told = [s.message for s in fakes.sms.sent_to(who.e164) if about_her_money(s.message)]
    assert len(told) == 1
    assert told[0].endswith(kept)
    currency = delivered.total.currency
    mine = await services.money.ledger.account(chart.receivable(who, currency).code)
    # hers: we owe her the cash she paid at the door (whole units), not the total's cents
    assert mine.balance == Money.zero(currency) - delivered.total.in_cash()
    assert delivered.total.in_cash() != delivered.total
    assert await books_balanced(services)
