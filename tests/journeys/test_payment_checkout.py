"""Paying an order in the conversation: USSD checkout -> the country's rail -> the provider's
callback -> the order paid -> an SMS receipt, all through the real endpoints and local fakes of
Daraja, Paystack and Africa's Talking."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.ledger import TransferRefusedError
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Method
from tests.contract.channels.africastalking.test_ussd_published import publish
from tests.support.graphql import bearer, post_graphql
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import SmsPhone, flush_outbox
from tests.support.providers.payments import PaymentFakes, events

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"
NGOZI = "+2348030000001"
DELIVERED = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
]


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def test_a_kenyan_retailer_pays_by_mpesa_end_to_end(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    await juma.choose("Nunua")
    await juma.choose("Tambi na Pasta")
    await juma.choose("Indomie Chicken")
    await juma.press("3")
    await juma.choose("Lipia")
    payment = await juma.choose("Chagua malipo")
    assert payment.labels == ["M-Pesa", "Lipa ukipokea", "Rudi"]
    confirm = await juma.choose("M-Pesa")
    assert confirm.text == "Weka oda ya KES 2,521.26, kulipa kwa M-Pesa?"
    done = await juma.choose("Thibitisha")

    [order] = await services.orders.recent(Phone(JUMA))
    assert done.kind == "END"
    assert done.body == (
        f"Oda {order.reference} imewekwa. Jumla KES 2,521.26 (M-Pesa itaomba KES 2,522). Weka "
        "PIN yako ya M-Pesa kwenye ujumbe kulipa. Tutakutumia risiti kwa SMS."
    )
    # Africa's Talking retries the last request: the same screen, no second STK push.
    assert (await juma.resend()).body == done.body
    push = fakes.daraja.push_for("254711000001")
    assert len(fakes.daraja.pushes) == 1
    assert push.body["Amount"] == 2522  # whole shillings, rounded up, never down
    assert push.body["AccountReference"] == order.reference
    assert order.paid_at is None

    target, body = fakes.daraja.pay(push)
    response = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert (await services.orders.get(order.reference)).paid_at is not None

    await flush_outbox(services)
    texts = [sms.message for sms in fakes.sms.sent_to(JUMA)]
    assert texts == [
        f"OmniRoute: oda {order.reference} imewekwa, jumla KES 2,521.26, kulipa kwa M-Pesa. "
        "Tuma HALI kwa taarifa.",
        f"OmniRoute: tumepokea KES 2,522.00 kwa oda {order.reference}. Risiti {push.receipt}. "
        "Asante!",
    ]
    # The callback delivered again sends no second receipt.
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    assert len(fakes.sms.sent_to(JUMA)) == 2
    # The money is on the ledger once: M-Pesa holds it, and Juma is in credit until delivery
    # makes the order's debt final (placement only holds it).
    assert services.money is not None
    held = await services.money.ledger.account("rail:mpesa:KES")
    assert held.balance == Money(Decimal("2522.00"), "KES")
    owed = await services.money.ledger.account(f"customer:{JUMA}:receivable:KES")
    assert owed.balance == Money(Decimal("-2522.00"), "KES")


async def test_a_nigerian_retailer_pays_by_transfer_to_her_own_virtual_account(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    ngozi = UssdPhone(gateway, NGOZI)
    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.choose("Indomie Chicken")
    await ngozi.press("3")
    await ngozi.choose("Checkout")
    payment = await ngozi.choose("Choose payment")
    assert payment.labels == [
        "Bank transfer",
        "GTBank USSD code (*737#)",
        "Pay on delivery",
        "Back",
    ]
    await ngozi.choose("Bank transfer")
    done = await ngozi.choose("Confirm")

    [order] = await services.orders.recent(Phone(NGOZI))
    [account] = fakes.paystack.accounts
    assert done.kind == "END"
    assert done.body == (
        f"Order {order.reference}: transfer NGN 26,993.25 to Wema Bank {account.account_number}, "
        f"your own account, description {order.reference}. We will SMS you when it arrives."
    )  # the order's number on the transfer sends it to this order, whatever else she owes

    body, headers = fakes.paystack.transfer_to_account(account.account_number, 2_699_325)
    response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
    assert response.status == 200
    assert (await services.orders.get(order.reference)).paid_at is not None
    [paid] = await events(services, "PaymentSucceeded")
    assert (paid["method"], paid["amount"]) == ("BANK_TRANSFER", "26993.25")
    # My orders says so.
    await ngozi.dial()
    orders = await ngozi.choose("My orders")
    assert f"{order.reference} Placed, paid 26,993.25" in orders.body

    await flush_outbox(services)
    receipt = fakes.sms.sent_to(NGOZI)[-1].message
    assert receipt.startswith(f"OmniRoute: we received NGN 26,993.25 for order {order.reference}.")


async def test_a_nigerian_retailer_gets_a_bank_ussd_code_to_dial(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    ngozi = UssdPhone(gateway, NGOZI)
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("USSD code")
    done = await ngozi.choose("Confirm")
    [charge] = fakes.paystack.charges.values()
    assert charge.ussd_code in done.body
    assert done.body.startswith("Order ")


async def test_the_bank_ussd_code_is_offered_naming_the_bank_whose_customers_can_dial_it(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """A Paystack USSD code (*737*…#) is dialled in GTBank's menu: only its customers can pay
    with it. The option said 'Bank USSD code (Paystack)', so a First Bank customer chose it and
    got a code her bank does not know; it names the bank and its code now, in her language."""
    ngozi = UssdPhone(gateway, NGOZI)
    await ngozi.dial()
    await ngozi.choose("Language")
    await ngozi.choose("Kiswahili")
    await ngozi.walk("1", "1", "1", "3", "3")
    payment = await ngozi.choose("Chagua malipo")
    assert payment.labels == [
        "Uhamisho wa benki",
        "Msimbo wa USSD wa GTBank (*737#)",
        "Lipa ukipokea",
        "Rudi",
    ]


async def test_pay_on_delivery_is_offered_alone_where_no_rail_serves(
    gateway: Client, services: Services
) -> None:
    thandi = UssdPhone(gateway, "+27821000001")
    await thandi.dial()
    await thandi.walk("1", "1", "1", "3")
    await thandi.choose("Checkout")
    payment = await thandi.choose("Choose payment")
    assert payment.labels == ["Pay on delivery", "Back"]


async def test_sms_checkout_shares_the_dialog_and_pays_by_mpesa(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    juma = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    assert (await juma.text("Habari")).startswith("Karibu OmniRoute")
    screen = ""
    for key in ("1", "1", "1", "3", "3", "1"):
        screen = await juma.text(key)
    assert "1. M-Pesa" in screen
    assert "kulipa kwa M-Pesa?" in await juma.text("1")
    # One text places and confirms it; no separate order confirmation SMS follows it.
    [placed] = await juma.send("1")
    [order] = await services.orders.recent(Phone(JUMA))
    assert placed.startswith(
        f"Oda {order.reference} imewekwa. Jumla KES 2,521.26 (M-Pesa itaomba KES 2,522). Weka PIN"
    )

    target, body = fakes.daraja.pay(fakes.daraja.push_for("254711000001"))
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    [receipt] = await juma.receive()
    assert receipt.startswith(f"OmniRoute: tumepokea KES 2,522.00 kwa oda {order.reference}.")
    for sms in juma.inbox:
        assert gsm7_length(sms) <= 160, sms


async def test_a_transfer_sent_in_two_parts_pays_her_order(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi's bank lets her send NGN 20,000 at a time: she sends the rest in a second
    transfer. Together they pay the order (before, each was kept as her credit and the order
    stayed unpaid until it was cancelled a day later), and the first part's text says what is
    still to pay."""
    ngozi = UssdPhone(gateway, NGOZI)
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Bank transfer")
    await ngozi.choose("Confirm")
    [order] = await services.orders.recent(Phone(NGOZI))
    [account] = fakes.paystack.accounts

    body, headers = fakes.paystack.transfer_to_account(account.account_number, 2_000_000)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    # The same part delivered again counts once.
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    assert (await services.orders.get(order.reference)).paid_at is None
    assert fakes.sms.sent_to(NGOZI)[-1].message == (
        f"OmniRoute: we received NGN 20,000.00 for order {order.reference}. "
        "NGN 6,993.25 is still to pay."
    )

    body, headers = fakes.paystack.transfer_to_account(account.account_number, 699_325)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    assert (await services.orders.get(order.reference)).paid_at is not None
    await flush_outbox(services)
    receipt = fakes.sms.sent_to(NGOZI)[-1].message
    assert receipt.startswith(f"OmniRoute: we received NGN 6,993.25 for order {order.reference}.")
    # Both parts are on the books once, as her payment: the order's total, no more.
    assert services.money is not None
    owed = await services.money.ledger.account(f"customer:{NGOZI}:receivable:NGN")
    assert owed.balance == Money(Decimal("-26993.25"), "NGN")


async def test_her_order_sms_says_where_to_transfer_and_what_to_dial(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """The closing USSD screen with her account number (or the bank code to dial) is gone
    once read: the order's SMS says it again, once, in her language (it said only 'pay by bank
    transfer', and she had to remember ten digits), and to write the order's number in the
    transfer's description, so a transfer meant for it goes to it."""
    ngozi = UssdPhone(gateway, NGOZI)
    for method in ("Bank transfer", "USSD code"):
        await ngozi.dial()
        await ngozi.walk("1", "1", "1", "3")
        await ngozi.choose("Checkout")
        await ngozi.choose("Choose payment")
        await ngozi.choose(method)
        await ngozi.choose("Confirm")
    await flush_outbox(services)
    await ngozi.dial()
    await ngozi.choose("Language")
    await ngozi.choose("Kiswahili")
    await ngozi.walk("1", "1", "1", "3", "3", "1", "1", "1")
    await flush_outbox(services)

    transfer, code, swahili = reversed(await services.orders.recent(Phone(NGOZI)))
    [account] = fakes.paystack.accounts
    [charge] = fakes.paystack.charges.values()
    total = "NGN 26,993.25"
    assert [sms.message for sms in fakes.sms.sent_to(NGOZI)] == [
        f"OmniRoute: order {transfer.reference} placed, total {total}. Transfer it to Wema Bank "
        f"{account.account_number}, your own account, description {transfer.reference}. Reply "
        "STATUS for updates.",
        f"OmniRoute: order {code.reference} placed, total {total}. Dial {charge.ussd_code} to "
        "pay. Reply STATUS for updates.",
        f"OmniRoute: oda {swahili.reference} imewekwa, jumla {total}. Hamisha kwenda Wema Bank "
        f"{account.account_number}, akaunti yako, andika {swahili.reference} kama maelezo. Tuma "
        "HALI kwa taarifa.",
    ]
    for sms in fakes.sms.sent_to(NGOZI):
        assert gsm7_length(sms.message) <= 160, sms.message


async def test_her_order_sms_waits_for_the_account_being_opened(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """The order's event is relayed while Paystack is still opening her account (the usual
    case: the relay looks every 0.2 s, the bank's answer takes longer): the SMS goes once the
    account is known, with it, and once."""
    order = await services.orders.place(
        PlaceOrder(
            customer=Phone(NGOZI),
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=PaymentMethod.BANK_TRANSFER,
            idempotency_key="at-ussd:race:1",
        )
    )
    assert services.payments is not None
    slow = fakes.paystack.delay_next_account()
    paying = asyncio.create_task(
        services.payments.pay(
            CreatePayment(
                idempotency_key=f"order:{order.reference}",
                method=Method.BANK_TRANSFER,
                amount=order.total,
                customer=order.customer,
                order_reference=order.reference,
                description=f"Order {order.reference}",
            )
        )
    )
    await slow.asked.wait()  # the intent is claimed, Paystack asked, no answer yet
    await flush_outbox(services)
    assert fakes.sms.sent_to(NGOZI) == []
    slow.answer.set()
    await paying
    await flush_outbox(services)
    await flush_outbox(services)
    [account] = fakes.paystack.accounts
    [sms] = fakes.sms.sent_to(NGOZI)
    assert f"Transfer it to Wema Bank {account.account_number}" in sms.message


async def test_my_orders_shows_what_came_of_an_order_paid_in_parts(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi sent NGN 20,000 of her NGN 26,993.25 order (her bank's daily limit): My orders,
    on USSD and by SMS, and her app's `payment { received }` say how much came of how much,
    where before the order looked as if nothing had (no more than 'Placed')."""
    ngozi = UssdPhone(gateway, NGOZI)
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Bank transfer")
    await ngozi.choose("Confirm")
    [order] = await services.orders.recent(Phone(NGOZI))
    [account] = fakes.paystack.accounts
    body, headers = fakes.paystack.transfer_to_account(account.account_number, 2_000_000)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)

    await ngozi.dial()
    orders = await ngozi.choose("My orders")
    line = f"{order.reference} Placed, paid 20,000 of 26,993.25"
    assert orders.body.splitlines()[:2] == ["Your last orders (NGN):", line]

    by_sms = SmsPhone(gateway, services, fakes.sms, NGOZI)
    await by_sms.receive()  # what reached her phone before
    await by_sms.text("Hello")
    assert line in (await by_sms.text("3")).splitlines()

    # the operators' order-status service (*384*77#) says the same on "Where is my order?"
    await publish(services)
    on_service = UssdPhone(gateway, NGOZI, service_code="*384*77#")
    await on_service.dial()
    where = await on_service.choose("Where is my order?")
    assert where.body.splitlines()[1:3] == ["Your last orders (NGN):", line]

    query = """query($r: String!) {
      order(reference: $r) { ... on Order { payment { received { amount currency } } } }
    }"""
    status, answer = await post_graphql(
        gateway, query, {"r": order.reference}, bearer(services.settings, NGOZI, "customer")
    )
    assert status == 200, answer
    assert answer["data"]["order"]["payment"]["received"] == {
        "amount": "20000.00",
        "currency": "NGN",
    }


async def test_credit_on_his_account_pays_part_and_mpesa_asks_only_the_rest(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma has KES 200 of his own on his account, less than the order: M-Pesa is offered
    for what is left, his PIN prompt asks only that, and the order is paid; his credit is
    taken when the order is placed, once."""
    assert services.money is not None
    await services.money.books.post_payment_received(
        Phone(JUMA), Money(Decimal(200), "KES"), "mpesa", "KEPT-JUMA"
    )
    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    for label in ("Nunua", "Tambi na Pasta", "Indomie Chicken"):
        await juma.choose(label)
    await juma.press("3")
    await juma.choose("Lipia")
    payment = await juma.choose("Chagua malipo")
    after = "M-Pesa: KES 2,321.26 baada ya salio lako la KES 200.00"
    assert payment.labels == [after, "Lipa ukipokea", "Rudi"]
    await juma.choose(after)
    done = await juma.choose("Thibitisha")
    assert (await juma.resend()).body == done.body  # the confirm again: one push

    [order] = await services.orders.recent(Phone(JUMA))
    assert done.body == (
        f"Oda {order.reference} imewekwa. Jumla KES 2,321.26 (M-Pesa itaomba KES 2,322). Weka "
        "PIN yako ya M-Pesa kwenye ujumbe kulipa. Tutakutumia risiti kwa SMS."
    )
    [push] = fakes.daraja.pushes
    assert push.body["Amount"] == 2322
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money.zero("KES")
    target, body = fakes.daraja.pay(fakes.daraja.push_for("254711000001"))
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert (await services.orders.get(order.reference)).paid_at is not None
    await flush_outbox(services)  # the payment posted
    # 200 of his and 2,322 by M-Pesa for 2,521.26: what M-Pesa rounded up is his again
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money(
        Decimal("0.74"), "KES"
    )
    assert (await services.money.ledger.check()).balanced


async def mpesa_paid_then_cancelled(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> Order:
    """Juma's order of 3 cartons, paid by M-Pesa through Daraja's callback, then cancelled;
    the cancel's reactions have run."""
    assert services.payments is not None
    order = await services.orders.place(
        PlaceOrder(
            Phone(JUMA),
            RegionCode.NAIROBI,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.MPESA,
            "paid-then-cancelled",
            clear_cart=False,
        )
    )
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.MPESA,
            amount=order.total,
            customer=Phone(JUMA),
            order_reference=order.reference,
        )
    )
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await services.orders.advance(order.reference, OrderStatus.CANCELLED)
    await flush_outbox(services)
    return order


async def owing_while_mpesa_gives_back(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> Any:
    """Juma owes KES 1,000 on credit; his M-Pesa order, paid (KES 2,522) and cancelled, is being
    reversed: the reversal is asked, its result not in yet. Its request, for the result."""
    assert services.money is not None
    assert services.payments is not None
    assert services.refunds is not None
    for i in range(3):  # a history that earns him credit
        bought = await services.orders.place(
            PlaceOrder(
                Phone(JUMA),
                RegionCode.NAIROBI,
                (CartLine("NDL-INDO-CHK", 40),),
                PaymentMethod.ON_DELIVERY,
                f"history-{i}",
                clear_cart=False,
            )
        )
        for status in DELIVERED:
            await services.orders.advance(bought.reference, status)
        clock.advance(20 * 86_400)
    await services.money.credit.authorise("OWEJ01", Phone(JUMA), Money(Decimal(1000), "KES"))
    order = await mpesa_paid_then_cancelled(gateway, services, fakes)
    if not await services.payments.pending_refunds():
        await services.refunds.refund_order(order.reference, order.total, key="back")
    [reversal] = fakes.daraja.reversals  # asked; its result not in yet
    return reversal


async def test_money_mpesa_is_still_giving_back_does_not_repay_his_credit_too(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """His account shows the money being reversed until the reversal is confirmed, but it is
    not his to spend on his debt, or he would have it twice (back on M-Pesa and off his
    debt)."""
    assert services.money is not None
    reversal = await owing_while_mpesa_gives_back(gateway, services, fakes, clock)
    credit = services.money.credit

    await credit.run_daily()  # the gateway's pass

    [owed] = await credit.credits(Phone(JUMA))
    assert owed.outstanding == Money(Decimal(1000), "KES")
    target, body = fakes.daraja.reversal_result(reversal)
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    receivable = await services.money.ledger.account(f"customer:{JUMA}:receivable:KES")
    assert receivable.available.amount <= 0  # he owes nothing there: given back once
    assert (await services.money.ledger.check()).balanced


async def test_money_mpesa_failed_to_give_back_repays_his_credit_at_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The reversal failed: the KES 2,522 stays his credit, and repays the KES 1,000 he owes
    on credit at once, not at the next pass."""
    assert services.money is not None
    reversal = await owing_while_mpesa_gives_back(gateway, services, fakes, clock)

    target, body = fakes.daraja.reversal_result(reversal, ok=False)
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)

    [owed] = await services.money.credit.credits(Phone(JUMA))
    assert owed.outstanding == Money.zero("KES")
    kept = await services.money.books.account_credit(Phone(JUMA), "KES")
    assert kept == Money(Decimal(1522), "KES")
    texts = [sms.message for sms in fakes.sms.sent_to(JUMA)]
    assert texts[-1] == (
        "OmniRoute: KES 1,000.00 ya salio lako imelipa deni lako lote. Salio lililobaki kwenye"
        " akaunti yako: KES 1,522.00."
    )
    assert (await services.money.ledger.check()).balanced


async def test_money_mpesa_is_still_giving_back_is_not_offered_to_pay_an_order(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's cancelled order's KES 2,522 is being reversed to his M-Pesa (the result not in
    yet): it is not his credit to pay another order with, whole or in part, or he would
    have it twice (back on M-Pesa and in the goods)."""
    assert services.money is not None
    assert services.payments is not None
    await mpesa_paid_then_cancelled(gateway, services, fakes)
    assert fakes.daraja.reversals  # asked; its result not in yet

    juma = UssdPhone(gateway, JUMA)
    await juma.dial()
    for label in ("Nunua", "Tambi na Pasta", "Indomie Chicken"):
        await juma.choose(label)
    await juma.press("1")
    await juma.choose("Lipia")
    payment = await juma.choose("Chagua malipo")
    assert payment.labels == ["M-Pesa", "Lipa ukipokea", "Rudi"]  # no credit, no part of it
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money.zero("KES")
    with pytest.raises(TransferRefusedError):  # the hold a confirm takes is refused too
        await services.money.books.order_paid_from_credit(
            "ORD-TWICE", Phone(JUMA), Money(Decimal(800), "KES")
        )
