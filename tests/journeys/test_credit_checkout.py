"""A Kenyan retailer with a good order history buys on credit over USSD, then repays by M-Pesa
from the SMS balance screen: the credit line holds the order, the repayment clears it, and the
ledger shows the money at M-Pesa once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.i18n import Translator
from core.money import Money
from core.phone import Phone
from core.region import region_for_phone
from engines.credit import CreditOrder, CreditStatus, late_fee_owed, repayment_order
from engines.notifications import DeliveryStatus
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.credit import DAY, DELIVERED, credit_history
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import SmsPhone, flush_outbox
from tests.support.providers.mpesa import StkPush
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


async def _credit_chosen_then_taken(juma: UssdPhone, services: Services) -> None:
    """Juma picks credit; before he confirms, another order takes all but KES 1 of his line."""
    assert services.money is not None
    await juma.choose("Kwa mkopo")
    left = await services.money.credit.available(Phone(JUMA))
    await services.money.credit.authorise("W0THER", Phone(JUMA), left - Money(Decimal(1), "KES"))


async def _delivered(services: Services, reference: str) -> None:
    """The driver hands the order over: its credit's term starts."""
    for status in DELIVERED:
        await services.orders.advance(reference, status)
    await services.relay.drain()


async def _daraja_pays_twice(
    gateway: Client, services: Services, fakes: PaymentFakes, push: StkPush
) -> None:
    """Juma approves the prompt; Daraja delivers its callback twice (one repayment)."""
    target, body = fakes.daraja.pay(push)
    for _ in range(2):
        response = await gateway.post(
            target, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
    await flush_outbox(services)


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

    await _daraja_pays_twice(gateway, services, fakes, push)
    [repaid] = await credit.credits(Phone(JUMA))
    assert repaid.status is CreditStatus.REPAID
    # M-Pesa took whole shillings: the 0.74 change is his, kept as credit on his account
    change = Money(Decimal("0.74"), "KES")
    assert await credit.available(Phone(JUMA)) == decision.limit
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == change
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
    await _credit_chosen_then_taken(juma, services)

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


async def test_an_order_credit_refused_at_confirm_is_not_confirmed_by_sms(
    gateway: Client, services: Services, clock: SteppedClock
) -> None:
    """The order credit refused at Confirm is placed and cancelled at once: the screen says
    so, and no SMS then tells Juma it was placed on credit."""
    assert services.money is not None
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await _credit_chosen_then_taken(juma, services)
    refused = await juma.choose("Thibitisha")
    assert refused.lines[0].startswith("Mkopo haukuidhinishwa")

    [order, *_] = await services.orders.recent(Phone(JUMA))
    assert order.status.value == "cancelled"
    await services.relay.drain()
    texts = await services.notifications.for_recipient(Phone(JUMA))
    assert [str(d.payload) for d in texts if order.reference in str(d.payload)] == []


async def test_a_good_history_earns_credit_at_checkout_without_an_operator(
    gateway: Client, services: Services, clock: SteppedClock
) -> None:
    """Nothing but the tests ever decided a limit: a retailer with months of delivered orders
    was never offered credit. The checkout asks, so the line is decided then."""
    await credit_history(services, clock, JUMA)
    labels = await _to_payment(UssdPhone(gateway, JUMA))
    assert any(label.startswith("Kwa mkopo (salio KES ") for label in labels)


async def test_a_repaid_overdue_credit_no_longer_blocks_credit_the_same_day(
    gateway: Client, services: Services, clock: SteppedClock
) -> None:
    """Overdue, the limit is nil; once the retailer has paid, the next checkout offers credit
    again (halved for the late repayment), not only after some later re-decision."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    await juma.choose("Thibitisha")
    clock.advance(10 * 86_400)  # due in 7 days: overdue now
    assert "Kwa mkopo" not in " ".join(await _to_payment(juma))
    [owed] = await credit.credits(Phone(JUMA))
    await credit.repay(Phone(JUMA), owed.outstanding, "mpesa", "QK-REPAID-1")

    await juma.dial()
    await juma.choose("Anza kikapu kipya")
    await juma.choose("Nunua")
    await juma.choose("Tambi na Pasta")
    await juma.choose("Indomie Chicken")
    await juma.press("1")  # the late repayment halved the limit: a smaller order
    await juma.choose("Lipia")
    labels = (await juma.choose("Chagua malipo")).labels

    assert any(label.startswith("Kwa mkopo (salio KES ") for label in labels)


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


async def test_a_nigerian_retailer_repays_credit_by_transfer_to_her_own_account(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Ngozi chose 'Repay by Bank transfer' on BAL and was told to approve a prompt on her
    phone: there is none for a transfer, and she never learnt the account to send it to."""
    owed, started = await _ngozi_repays(gateway, services, fakes, clock, "Bank transfer")

    [account] = fakes.paystack.accounts
    assert started == (
        f"Repaying {owed.outstanding.format()} for order {owed.order_reference}: transfer it to "
        f"Wema Bank {account.account_number}, your own account, description "
        f"{owed.order_reference}. We will SMS you when it arrives."
    )


async def test_a_nigerian_retailer_repays_credit_with_a_bank_ussd_code(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    owed, started = await _ngozi_repays(gateway, services, fakes, clock, "USSD code")

    [charge] = fakes.paystack.charges.values()
    assert started == (
        f"Repaying {owed.outstanding.format()} for order {owed.order_reference}: dial "
        f"{charge.ussd_code} to pay. We will SMS you when it is paid."
    )


async def _ngozi_repays(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock, method: str
) -> tuple[CreditOrder, str]:
    """Ngozi buys on credit over USSD, then picks `method` on her SMS balance screen."""
    assert services.money is not None
    ngozi_phone = "+2348030000001"
    await credit_history(services, clock, ngozi_phone)
    ngozi = UssdPhone(gateway, ngozi_phone)
    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.choose("Indomie Chicken")
    await ngozi.press("3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("On credit")
    await ngozi.choose("Confirm")
    [owed] = await services.money.credit.credits(Phone(ngozi_phone))
    sms = SmsPhone(gateway, services, fakes.sms, ngozi_phone, network_code="62130")
    await sms.receive()
    balance = await sms.text("BAL")
    key = next(line[0] for line in balance.splitlines() if method in line)
    return owed, await sms.text(key)


async def test_the_balance_shows_everything_owed_on_credit(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Two orders on credit, and BAL said 'Deni la mkopo: KES 2,521.26': only the oldest, as
    if that were all Juma owed."""
    assert services.money is not None
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    for _ in range(2):
        await juma.dial()
        await juma.choose("Nunua")
        await juma.choose("Tambi na Pasta")
        await juma.choose("Indomie Chicken")
        await juma.press("1")
        await juma.choose("Lipia")
        await juma.choose("Chagua malipo")
        await juma.choose("Kwa mkopo")
        await juma.choose("Thibitisha")
        clock.advance(86_400)
    open_ = await services.money.credit.credits(Phone(JUMA))
    assert len(open_) == 2
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()

    balance = await sms.text("BAL")

    for credit in open_:  # not delivered yet: due its term after delivery
        due = "siku 7 baada ya kupokea"
        assert f"Deni la mkopo: {credit.outstanding.format()}, mwisho {due}." in balance
    assert "1. Lipa kwa M-Pesa" in balance


async def test_a_transfer_into_her_own_account_repays_what_she_owes_on_credit(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Ngozi owes on credit and sends NGN 10,000 to her own account without asking BAL first:
    the money was kept as hers, the credit stayed unpaid, then overdue, blocking her and
    charging a late fee although she had paid. It repays the oldest credit, once."""
    assert services.money is not None
    assert services.payments is not None
    credit = services.money.credit
    ngozi = Phone("+2348030000001")
    await credit_history(services, clock, ngozi.e164)
    [before] = await _ngozi_on_credit(gateway, services, ngozi)
    account = await services.payments.virtual_account(ngozi, "paystack")

    body, headers = fakes.paystack.transfer_to_account(account.account_number, 1_000_000)
    for _ in range(2):  # Paystack retries its webhook: one repayment
        response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
        assert response.status == 200
    await flush_outbox(services)

    [after] = await credit.credits(ngozi)
    assert after.outstanding == before.outstanding - Money(Decimal(10_000), "NGN")
    line = await services.money.ledger.account("customer:+2348030000001:credit:NGN")
    assert line.balances.credits_posted == Decimal(10_000)
    assert (await services.money.ledger.check()).balanced


async def test_a_transfer_that_pays_all_she_owes_on_credit_says_so_and_what_is_kept(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Ngozi sends NGN 100,000 to her own account while she owes on credit: she was texted only
    'we received NGN 100,000.00. Thank you!', no word that it paid her debt nor what is left.
    One SMS now says both, however often the webhook comes."""
    assert services.payments is not None
    ngozi = Phone("+2348030000001")
    await credit_history(services, clock, ngozi.e164)
    [owed] = await _ngozi_on_credit(gateway, services, ngozi)
    account = await services.payments.virtual_account(ngozi, "paystack")

    body, headers = fakes.paystack.transfer_to_account(account.account_number, 10_000_000)
    for _ in range(2):
        response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
        assert response.status == 200
    await flush_outbox(services)

    kept = Money(Decimal(100_000), "NGN") - owed.outstanding
    texts = [s.message for s in fakes.sms.sent_to(ngozi.e164)]
    assert [t for t in texts if "received" in t] == [
        f"OmniRoute: we received NGN 100,000.00. It paid what you owed on credit "
        f"({owed.outstanding.format()}); {kept.format()} kept as credit on your account."
    ]


async def _ngozi_on_credit(gateway: Client, services: Services, ngozi: Phone) -> list[CreditOrder]:
    assert services.money is not None
    phone = UssdPhone(gateway, ngozi.e164)
    await phone.dial()
    await phone.choose("Shop")
    await phone.choose("Noodles")
    await phone.choose("Indomie Chicken")
    await phone.press("3")
    await phone.choose("Checkout")
    await phone.choose("Choose payment")
    await phone.choose("On credit")
    await phone.choose("Confirm")
    return await services.money.credit.credits(ngozi)


async def test_a_late_fee_is_texted_shown_on_bal_and_settled_by_the_repayment(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The 2 % late fee was booked where Juma never heard of it, BAL did not show it, and his
    repayment went to the credit line only: the books showed the fee owed for ever. He is now
    told once, BAL shows it with the rest, and paying BAL settles both, fee first."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    await juma.choose("Thibitisha")
    [bought] = await credit.credits(Phone(JUMA))
    await _delivered(services, bought.order_reference)
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()
    clock.advance(11 * 86_400)  # due in 7 days, then 3 days' grace: the fee is due
    fee = Money(Decimal("50.43"), "KES")  # 2 % of KES 2,521.26
    ledger = services.money.ledger
    receivable = "customer:+254711000001:receivable:KES"  # his orders paid on delivery
    before = (await ledger.account(receivable)).balance
    assert (await credit.run_daily()).late_fees == [(bought.order_reference, fee)]
    await credit.run_daily()  # once

    texts = [t for t in await sms.receive() if "ada ya kuchelewa" in t]
    assert texts == [
        f"Oda {bought.order_reference} imechelewa: ada ya kuchelewa ya KES 50.43 imeongezwa. "
        "Sasa unadaiwa KES 2,571.69. Tuma BAL kulipa."
    ]
    balance = await sms.text("BAL")
    assert "Deni la mkopo: KES 2,571.69 (ada ya kuchelewa KES 50.43)" in balance
    assert (await sms.text("1")).startswith("Unalipa KES 2,571.69")
    push = fakes.daraja.push_for("254711000001")
    await _daraja_pays_twice(gateway, services, fakes, push)

    [repaid] = await credit.credits(Phone(JUMA))
    assert repaid.status is CreditStatus.REPAID
    # the fee is paid, and the 0.31 M-Pesa's whole shillings brought over is his credit
    change = Money(Decimal("0.31"), "KES")
    assert (await ledger.account(receivable)).balance == before - change
    assert (await ledger.account("late_fees:KES")).balance == fee
    assert (await ledger.account("rail:mpesa:KES")).balance == Money(Decimal(2572), "KES")
    assert (await ledger.check()).balanced
    assert (await sms.send("BAL"))[-1] == "Salio kwenye akaunti yako: KES 0.31\n0. Rudi"


async def test_a_retailer_who_sent_stop_gets_no_credit_sms(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma sent STOP (ACHA) and still got his credit reminders and late fee by SMS, where
    every other notice to him is held back. They are recorded as held back too; BAL still
    answers when he asks."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    await juma.choose("Thibitisha")
    [bought] = await credit.credits(Phone(JUMA))
    await _delivered(services, bought.order_reference)
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()
    assert (await sms.text("STOP")).startswith("Hutapokea ujumbe zaidi")

    for days in (5, 3, 3):  # due soon, overdue, the late fee
        clock.advance(days * 86_400)
        await credit.run_daily()

    assert await sms.receive() == []
    held = [
        d
        for d in await services.notifications.for_recipient(Phone(JUMA))
        if d.dedupe_key.startswith("credit-")
    ]
    assert sorted(d.dedupe_key.split(":")[0] for d in held) == [
        "credit-due_soon",
        "credit-late_fee",
        "credit-overdue",
    ]
    assert {d.status for d in held} == {DeliveryStatus.SUPPRESSED}
    assert "ada ya kuchelewa" in await sms.text("BAL")


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
    await _credit_chosen_then_taken(juma, services)
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


@pytest.mark.parametrize("locale", Translator.load().locales)
async def test_every_balance_screen_fits_with_many_credits_in_naira(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock, locale: str
) -> None:
    """Ngozi owes on six credits, each late with its fee, and on delivery: BAL listed every
    line and the repayment methods on one screen, far over one SMS (160) and one USSD screen
    (182). Now BAL says the total and the oldest due date, and each credit is a page away."""
    assert services.money is not None
    credit = services.money.credit
    ngozi_phone = "+2348030000001"
    await credit_history(services, clock, ngozi_phone)
    await credit.decide(Phone(ngozi_phone))
    for n in range(6):
        await credit.authorise(f"ORD-NG-{n}", Phone(ngozi_phone), Money(Decimal("1234.56"), "NGN"))
        await credit.delivered(f"ORD-NG-{n}", clock.now())
        clock.advance(DAY)
    clock.advance(40 * DAY)
    await credit.run_daily()
    await services.orders.place(
        PlaceOrder(
            Phone(ngozi_phone),
            region_for_phone(Phone(ngozi_phone)).code,
            (CartLine("NDL-INDO-CHK", 1),),
            PaymentMethod.ON_DELIVERY,
            "pod-1",
        )
    )
    owed = sorted(
        (c for c in await credit.credits(Phone(ngozi_phone)) if c.status is CreditStatus.OPEN),
        key=repayment_order,
    )
    assert len(owed) == 6
    oldest_due = owed[0].due_on
    assert oldest_due is not None
    assert all(c.outstanding > c.amount for c in owed)  # a late fee on each
    await services.customers.set_locale(Phone(ngozi_phone), locale)
    t = services.translate
    keyword = t(locale, "keyword.balance").split(",")[0]

    sms = SmsPhone(gateway, services, fakes.sms, ngozi_phone, network_code="62130")
    await sms.receive()
    screens = [await sms.text("BAL")]
    summary = t(
        locale,
        "balance.credit_summary",
        total=sum((c.outstanding for c in owed[1:]), owed[0].outstanding).format(),
        count=6,
        due=oldest_due.strftime("%d/%m/%Y"),
    )
    assert summary in screens[0].splitlines()
    details = t(locale, "balance.details")
    key = next(line[0] for line in screens[0].splitlines() if line.endswith(details))
    screens.append(await sms.text(key))
    while "\n98. " in screens[-1]:
        screens.append(await sms.text("98"))
    for screen in screens:
        assert gsm7_length(screen) <= 160, screen
    shown = "\n".join(screens)
    for c in owed:
        assert c.outstanding.format() in shown  # every credit, with its fee, on a page
        assert late_fee_owed(c).format() in shown

    ussd = UssdPhone(gateway, ngozi_phone)
    await ussd.dial()
    first = await ussd.press(keyword)  # UssdPhone asserts 182 GSM-7 on every screen
    assert summary in first.lines
    await ussd.choose(details)
    pages = await ussd.page_through()
    assert len(pages) >= 2
    assert sum(len(p.options) for p in pages) > 6


async def test_a_credit_falls_due_its_term_after_delivery_not_after_the_order(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's 7-day credit counted from the day he ordered: goods that took ten days to come
    were overdue on arrival, blocked his next credit order and earned a late fee. Now it is
    'due 7 days after delivery' until they come, and the 7 days start then."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA)
    juma = UssdPhone(gateway, JUMA)
    await _to_payment(juma)
    await juma.choose("Kwa mkopo")
    done = await juma.choose("Thibitisha")
    [order, *_] = await services.orders.recent(Phone(JUMA))
    assert done.body.startswith(
        f"Oda {order.reference} imewekwa kwa mkopo. Jumla KES 2,521.26, lipa ndani ya siku 7 "
        "baada ya kupokea."
    )
    sms = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await sms.receive()

    clock.advance(10 * DAY)  # the goods are still on their way
    run = await credit.run_daily()
    assert (run.reminders, run.late_fees) == ([], [])
    assert not await credit.blocked(Phone(JUMA))
    assert "Deni la mkopo: KES 2,521.26, mwisho siku 7 baada ya kupokea." in await sms.text("BAL")

    await _delivered(services, order.reference)  # day 10: the 7 days start
    [held] = await credit.credits(Phone(JUMA))
    delivered_on = clock.now().astimezone(ZoneInfo("Africa/Nairobi")).date()
    assert held.due_on == delivered_on + timedelta(days=7)
    await credit.delivered(order.reference, clock.now() + timedelta(days=3))  # again: once
    assert (await credit.credit(order.reference)) == held
    invoice = await services.money.invoices.find(order.reference)
    assert invoice is not None
    assert invoice.due_on == held.due_on

    clock.advance(4 * DAY)
    assert (await credit.run_daily()).reminders == []
    clock.advance(1 * DAY)  # two days before the delivery-based date
    assert [k.value for _, k in (await credit.run_daily()).reminders] == ["due_soon"]
    clock.advance(6 * DAY)  # past it, and past the grace
    run = await credit.run_daily()
    assert [k.value for _, k in run.reminders] == ["overdue"]
    assert run.late_fees == [(order.reference, Money(Decimal("50.43"), "KES"))]


@pytest.mark.parametrize("locale", Translator.load().locales)
async def test_bal_says_what_her_credit_paid_of_her_debt_this_week_on_every_screen(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock, locale: str
) -> None:
    """Ngozi's NGN 26,000.00 kept on her account paid part of her late credit: only the SMS
    said so, and BAL showed a smaller debt with nothing to explain it. BAL (SMS and USSD) now
    says what her credit paid and when, for a week, and every screen still fits."""
    assert services.money is not None
    credit, books = services.money.credit, services.money.books
    ngozi = Phone("+2348030000001")
    await credit_history(services, clock, ngozi.e164)
    await credit.decide(ngozi)
    await credit.authorise("ORD-NG-1", ngozi, Money(Decimal("42993.25"), "NGN"))
    await credit.delivered("ORD-NG-1", clock.now())
    clock.advance(40 * DAY)
    await credit.run_daily()  # late: a fee on it
    await books.post_payment_received(ngozi, Money(Decimal("26000"), "NGN"), "paystack", "K-1")
    await services.relay.drain()  # her cash at the doors of her history is on her account
    await credit.spend_account_credit(ngozi, "NGN")
    await services.customers.set_locale(ngozi, locale)
    paid_on = clock.now().astimezone(ZoneInfo("Africa/Lagos")).strftime("%d/%m")
    said = services.translate(
        locale, "balance.credit_paid_debt", amount="NGN 26,000.00", date=paid_on
    )
    sms = SmsPhone(gateway, services, fakes.sms, ngozi.e164, network_code="62130")
    await sms.receive()
    keyword = services.translate(locale, "keyword.balance").split(",")[0]

    balance = await sms.text("BAL")

    assert said in balance.splitlines()
    assert gsm7_length(balance) <= 160, balance
    ussd = UssdPhone(gateway, ngozi.e164)
    await ussd.dial()
    first = await ussd.press(keyword)  # UssdPhone asserts 182 GSM-7 on every screen
    assert said in first.lines
    clock.advance(8 * DAY)  # a week on: no more
    assert said not in (await sms.text("BAL")).splitlines()
