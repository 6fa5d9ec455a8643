"""`omniroute settle` counts the cash drivers took at pay-on-delivery doors: the distributor's
depot keeps the cash it took, so the day it arrives (what a driver still holds is on the road)
its commission comes out of the day's payout and the cash is never paid out again by bank; a day
whose commission exceeds what came in on the rails owes the rest, carried into the next payout.
The day's line says apart what came on the rails and what came in at the depot, and of the cash
taken at the doors that day how much the drivers still hold (on the road) and how much was
handed in. Settled once, however often it runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from pydantic import SecretStr

from core.app import ledger_cli
from core.app.bootstrap import Services
from core.app.cli import build_parser
from core.clock import SteppedClock
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
TUESDAY = "2026-01-06"


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


async def settle(day: str) -> int:
    """`omniroute settle --day DAY` as an operator runs it, that week (a first settlement
    goes back at most 31 days)."""
    args = build_parser().parse_args(["settle", "--day", day])
    later = SteppedClock(dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC))
    return await asyncio.to_thread(ledger_cli.run, args, clock=later)


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


def lagos_line(day: str, out: str) -> str:
    [line] = [x for x in out.splitlines() if x.startswith(f"lagos {day}:")]
    return line


@pytest.mark.usefixtures("operator_env")
async def test_the_depot_keeps_the_cash_handed_in_and_the_payout_only_takes_its_commission(
    gateway: Client,
    services: Services,
    clock: SteppedClock,
    fakes: PaymentFakes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert services.money is not None
    paid = await paid_by_paystack(gateway, services, fakes)
    took = await a_day_of_cash(services)  # Emeka's two doors, one of them short
    # He hands part in on Monday evening (the slip recorded at the depot that day).
    part = Money(Decimal(20_000), "NGN")
    await services.money.books.cash_handed_in(EMEKA, "lagos", part, "SLIP-1")
    capsys.readouterr()

    assert await settle(MONDAY) == 0
    kept = paid + part  # the sales that came in: the rest is still in his pocket
    commission = Money(kept.amount * Decimal("0.03"), "NGN")
    monday = paid - commission  # the depot has the cash already: not sent again by bank
    assert lagos_line(MONDAY, capsys.readouterr().out) == (
        f"lagos {MONDAY}: 1 payment, gross {paid}, cash {part} in at the depot (1 hand-over; "
        f"taken at doors {took} from 2 orders, held by drivers {took - part}, handed in "
        f"{part}), refunds NGN 0.00, fees NGN 0.00, commission {commission}, carried NGN 0.00, "
        f"net {monday}, payout {monday}"
    )

    # He hands the rest in on Tuesday: nothing came on the rails, so the distributor owes the
    # commission on it, carried into the next payout; Monday's stays as it was (its line now
    # shows none of its takings left on the road).
    clock.advance(24 * 3600)
    rest = took - part
    await services.money.books.cash_handed_in(EMEKA, "lagos", rest, "SLIP-2")
    assert await settle(TUESDAY) == 0
    assert await settle(MONDAY) == 0
    out = capsys.readouterr().out
    assert lagos_line(MONDAY, out) == (
        f"lagos {MONDAY}: 1 payment, gross {paid}, cash {part} in at the depot (1 hand-over; "
        f"taken at doors {took} from 2 orders, held by drivers NGN 0.00, handed in {took}), "
        f"refunds NGN 0.00, fees NGN 0.00, commission {commission}, carried NGN 0.00, "
        f"net {monday}, payout {monday}"
    )
    commission = Money(rest.amount * Decimal("0.03"), "NGN")
    assert lagos_line(TUESDAY, out) == (
        f"lagos {TUESDAY}: 0 payments, gross NGN 0.00, cash {rest} in at the depot (1 "
        "hand-over; taken at doors NGN 0.00 from 0 orders, held by drivers NGN 0.00, handed "
        f"in NGN 0.00), refunds NGN 0.00, fees NGN 0.00, commission {commission}, carried "
        f"NGN 0.00, net {Money.zero('NGN') - commission}, payout NGN 0.00, owes {commission} "
        "(carried into the next payout)"
    )
    owed = await services.money.ledger.account(chart.distributor("lagos", "NGN").code)
    assert owed.balance == monday  # accrued once, paid when the bank says; Tuesday sends none
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == Money.zero("NGN")  # the distributor has its notes
    assert (await services.money.ledger.check()).balanced
