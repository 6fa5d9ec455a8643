"""`omniroute settle` counts the cash drivers took at pay-on-delivery doors: a distributor is
owed its cash sales as its rail payments, and the day's line says apart what came on the rails
and what came at the doors, and of that how much the drivers still hold (on the road) and how
much was handed in at the depot. Settled once, however often it runs."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from pydantic import SecretStr

from core.app.bootstrap import Services
from core.app.cli import main
from core.config import Settings
from core.money import Money
from core.region import RegionCode
from engines.ledger import chart
from engines.payments import CreatePayment, Method
from tests.journeys.test_cli_drivers_cash import a_day_of_cash
from tests.journeys.test_refunds import NGOZI, place
from tests.journeys.test_returned_order_refunds import Client
from tests.support.gig import EMEKA
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

MONDAY = "2026-01-05"  # the services' clock: 10:00 in Lagos


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


@pytest.fixture
def operator_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands run in their own process, configured as the gateway is."""
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str | int) and not isinstance(value, bool):
            monkeypatch.setenv(f"OMNIROUTE_{name.upper()}", str(value))


async def omniroute(*argv: str) -> int:
    """`omniroute …` as an operator runs it."""
    return await asyncio.to_thread(main, list(argv))


async def paid_by_paystack(gateway: Client, services: Services, fakes: PaymentFakes) -> Money:
    """Ngozi's order paid by Paystack (she dials the bank's code): what she paid."""
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, "settle-cash-paystack")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    return order.total


def lagos_line(out: str) -> str:
    [line] = [x for x in out.splitlines() if x.startswith(f"lagos {MONDAY}:")]
    return line


@pytest.mark.usefixtures("operator_env")
async def test_the_days_settlement_owes_the_cash_taken_at_the_doors_once_and_says_where_it_is(
    gateway: Client, services: Services, fakes: PaymentFakes, capsys: pytest.CaptureFixture[str]
) -> None:
    assert services.money is not None
    paid = await paid_by_paystack(gateway, services, fakes)
    took = await a_day_of_cash(services)  # Emeka's two doors, one of them short
    assert await omniroute("drivers", "cash-in", EMEKA.e164, "20000", "--key", "SLIP-1") == 0
    part = Money(Decimal(20_000), "NGN")
    capsys.readouterr()

    assert await omniroute("settle", "--day", MONDAY) == 0
    kept = paid + took
    commission = Money(kept.amount * Decimal("0.03"), "NGN")
    net = kept - commission
    assert lagos_line(capsys.readouterr().out) == (
        f"lagos {MONDAY}: 1 payments, gross {paid}, cash {took} from 2 orders (held by drivers "
        f"{took - part}, handed in {part}), refunds NGN 0.00, fees NGN 0.00, commission "
        f"{commission}, carried NGN 0.00, net {net}, payout {net}"
    )

    # He hands the rest in on Tuesday; settled again, Monday owes nothing more, and its line
    # shows no cash left on the road.
    rest = (took - part).amount
    assert await omniroute("drivers", "cash-in", EMEKA.e164, str(rest), "--key", "SLIP-2") == 0
    capsys.readouterr()
    assert await omniroute("settle", "--day", MONDAY) == 0
    assert lagos_line(capsys.readouterr().out) == (
        f"lagos {MONDAY}: 1 payments, gross {paid}, cash {took} from 2 orders (held by drivers "
        f"NGN 0.00, handed in {took}), refunds NGN 0.00, fees NGN 0.00, commission "
        f"{commission}, carried NGN 0.00, net {net}, payout {net}"
    )
    owed = await services.money.ledger.account(chart.distributor("lagos", "NGN").code)
    assert owed.balance == net  # accrued once, its payout held until the bank confirms
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == took
    assert (await services.money.ledger.check()).balanced
