"""A Kenyan retailer with a good order history buys on credit over USSD, then repays by M-Pesa
from the SMS balance screen: the credit line holds the order, the repayment clears it, and the
ledger shows the money at M-Pesa once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from engines.credit import CreditStatus
from engines.orders import PaymentMethod
from tests.support.credit import credit_history
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import SmsPhone, flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def _to_payment(juma: UssdPhone) -> list[str]:
    await juma.dial()
    await juma.choose("Nunua")
    await juma.choose("Tambi na Pasta")
    await juma.choose("Indomie Chicken")
    await juma.press("3")
    await juma.choose("Lipia")
    return (await juma.choose("Chagua malipo")).labels


async def test_no_credit_line_no_credit_option(gateway: Client) -> None:
    labels = await _to_payment(UssdPhone(gateway, JUMA))
    assert labels == ["M-Pesa", "Lipa ukipokea", "Rudi"]


async def test_buy_on_credit_over_ussd_and_repay_by_mpesa_over_sms(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    decision = await credit.decide(Phone(JUMA))
    assert decision.limit.amount >= Decimal(3000)

    juma = UssdPhone(gateway, JUMA)
    labels = await _to_payment(juma)
    left = decision.limit.format()
    assert labels == ["M-Pesa", f"Kwa mkopo (salio {left})", "Lipa ukipokea", "Rudi"]
    confirm = await juma.choose("Kwa mkopo")
    assert confirm.text == "Weka oda ya KES 2,521.26, kwa mkopo?"
    done = await juma.choose("Thibitisha")
    [order, *_] = await services.orders.recent(Phone(JUMA))
    assert done.kind == "END"
    assert done.body.startswith(f"Oda {order.reference} imewekwa kwa mkopo. Jumla KES 2,521.26")
    assert order.payment_method is PaymentMethod.CREDIT
    [held] = [c for c in await credit.credits(Phone(JUMA)) if c.status is CreditStatus.OPEN]
    assert (held.order_reference, held.outstanding) == (
        order.reference,
        Money(Decimal("2521.26"), "KES"),
    )
    assert await credit.available(Phone(JUMA)) == decision.limit - order.total
    assert fakes.daraja.pushes == []  # nothing charged at checkout

    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    confirmations = await sms.receive()  # the order confirmations sent so far
    assert confirmations[-1].startswith(f"OmniRoute: oda {order.reference} imewekwa")
    balance = await sms.text("BAL")
    assert "Deni la mkopo: KES 2,521.26" in balance
    assert "1. Lipa kwa M-Pesa" in balance
    started = await sms.text("1")
    assert started.startswith(f"Unalipa KES 2,521.26 kwa oda {order.reference}")
    push = fakes.daraja.push_for("254711000001")
    assert push.body["Amount"] == 2522

    target, body = fakes.daraja.pay(push)
    for _ in range(2):  # Daraja delivers the callback twice: one repayment
        response = await gateway.post(
            target, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
    await flush_outbox(services)
    [repaid] = await credit.credits(Phone(JUMA))
    assert repaid.status is CreditStatus.REPAID
    # M-Pesa took whole shillings: the 0.74 change stays on Juma's line for next time
    change = Money(Decimal("0.74"), "KES")
    assert await credit.available(Phone(JUMA)) == decision.limit + change
    held_at_mpesa = await services.money.ledger.account("rail:mpesa:KES")
    assert held_at_mpesa.balance == Money(Decimal("2522.00"), "KES")
    assert (await services.money.ledger.check()).balanced


async def test_a_key_not_on_a_full_balance_screen_shows_it_again(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma owes on credit and on delivery: the two lines and Lipa kwa M-Pesa fill his SMS, and
    a mistyped key ended in 'service not available' instead of the same screen."""
    assert services.money is not None
    await credit_history(services, clock, JUMA)
    await services.money.credit.decide(Phone(JUMA))
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    await juma.choose("Thibitisha")
    await _to_payment(juma)
    await juma.choose("Lipa ukipokea")
    await juma.choose("Thibitisha")
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()
    balance = await sms.text("BAL")
    assert balance.startswith("Unadaiwa KES")
    assert "1. Lipa kwa M-Pesa" in balance

    again = await sms.text("7")

    assert "Unadaiwa KES" in again
    assert "Deni la mkopo: KES 2,521.26" in again
    assert "1. Lipa kwa M-Pesa" in again
    assert (await sms.text("1")).startswith("Unalipa KES 2,521.26")


async def test_credit_refused_at_confirm_keeps_the_cart_to_pay_another_way(
    gateway: Client, services: Services, clock: SteppedClock
) -> None:
    """Credit offered on the payment screen is gone by Confirm (another order took it): the
    order is cancelled, and the cart it came from is still there to pay another way."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    await credit.decide(Phone(JUMA))
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    left = await credit.available(Phone(JUMA))
    await credit.authorise("W0THER", Phone(JUMA), left - Money(Decimal(1), "KES"))

    refused = await juma.choose("Thibitisha")

    [order, *_] = await services.orders.recent(Phone(JUMA))
    assert refused.kind == "CON"
    assert refused.lines[0].startswith("Mkopo haukuidhinishwa")
    assert f"oda {order.reference}" in refused.lines[0]
    assert "Kikapu (3)" in refused.labels
    quote = await juma.choose("Kikapu (3)")
    assert quote.text == "Kikapu (bidhaa 3, KES 2,521.26):"
    await juma.choose("Lipia")
    await juma.choose("Chagua malipo")
    await juma.choose("Lipa ukipokea")
    done = await juma.choose("Thibitisha")
    assert done.kind == "END"
    assert "Jumla KES 2,521.26" in done.body


async def test_a_repayment_cancelled_on_the_phone_can_be_asked_for_again(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma presses Cancel on the M-Pesa prompt of his repayment; asking again sent no new
    prompt ("could not start the repayment" for ever, the same amount keyed the failed one)."""
    assert services.money is not None
    await credit_history(services, clock, JUMA)
    await services.money.credit.decide(Phone(JUMA))
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    await juma.choose("Thibitisha")
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()
    await sms.text("BAL")
    assert (await sms.text("1")).startswith("Unalipa KES 2,521.26")
    target, body = fakes.daraja.cancel(fakes.daraja.push_for("254711000001"))
    response = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200

    await sms.text("BAL")
    again = await sms.text("1")

    assert again.startswith("Unalipa KES 2,521.26")
    assert len(fakes.daraja.pushes) == 2
    await sms.text("BAL")  # while that prompt is open, asking again sends no third
    assert (await sms.text("1")).startswith("Unalipa KES 2,521.26")
    assert len(fakes.daraja.pushes) == 2


async def test_credit_refused_gives_the_promo_code_back_for_the_next_try(
    gateway: Client, services: Services, clock: SteppedClock
) -> None:
    """Juma's order with WELCOME (once per customer) is cancelled when credit is refused: the
    code was used up by an order that never was, so paying another way lost its saving."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    await credit.decide(Phone(JUMA))
    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    await juma.choose("Nunua")
    await juma.choose("Tambi na Pasta")
    await juma.choose("Indomie Chicken")
    await juma.press("3")
    await juma.choose("Lipia")
    await juma.choose("Msimbo wa punguzo")
    with_code = await juma.press("WELCOME")
    assert "Msimbo WELCOME -KES" in with_code.text
    await juma.choose("Chagua malipo")
    await juma.choose("Kwa mkopo")
    left = await credit.available(Phone(JUMA))
    await credit.authorise("W0THER", Phone(JUMA), left - Money(Decimal(1), "KES"))
    refused = await juma.choose("Thibitisha")
    assert refused.lines[0].startswith("Mkopo haukuidhinishwa")

    await juma.choose("Kikapu (3)")
    again = await juma.choose("Lipia")

    assert not again.lines[0].startswith("Msimbo WELCOME umeshatumika")
    assert "Msimbo WELCOME -KES" in again.text
    await juma.choose("Chagua malipo")
    await juma.choose("Lipa ukipokea")
    done = await juma.choose("Thibitisha")
    assert done.kind == "END"
    [order, *_] = await services.orders.recent(Phone(JUMA))
    assert order.voucher == "WELCOME"
