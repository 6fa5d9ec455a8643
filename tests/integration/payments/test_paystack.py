"""Paystack: USSD charges, dedicated virtual accounts and signed webhooks — against a local API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.money import DISTRIBUTORS
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Direction, IntentStatus, Method, PaymentService
from engines.payments.rails.paystack import customer_email
from tests.support.providers import paystack
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import (
    PaymentFakes,
    ProcessKilledError,
    crashing_service,
    events,
)

Client = TestClient[web.Request, web.Application]
NGOZI = Phone("+2348030000001")


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


async def ngozi_order(services: Services, key: str = "order-1", quantity: int = 3) -> Order:
    return await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", quantity),),
            payment_method=PaymentMethod.BANK_TRANSFER,
            idempotency_key=key,
            clear_cart=False,
        )
    )


def pay(order: Order, method: Method, key: str = "pay-1") -> CreatePayment:
    return CreatePayment(
        idempotency_key=key,
        method=method,
        amount=order.total,
        customer=order.customer,
        order_reference=order.reference,
    )


async def deliver(gateway: Client, body: bytes, headers: dict[str, str]) -> int:
    response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
    return response.status


async def test_bank_transfer_opens_the_customers_own_account_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    first = await ngozi_order(services, "o1")
    second = await ngozi_order(services, "o2")
    a = await payments(services).pay(pay(first, Method.BANK_TRANSFER, "p1"))
    b = await payments(services).pay(pay(second, Method.BANK_TRANSFER, "p2"))

    assert a.status is b.status is IntentStatus.REQUIRES_ACTION
    assert len(fakes.paystack.accounts) == 1
    account = fakes.paystack.accounts[0]
    assert a.details["account_number"] == b.details["account_number"] == account.account_number
    assert a.details["bank"] == "Wema Bank"
    created = json.loads(fakes.paystack.requests[0].body)
    assert created == {
        "email": customer_email(NGOZI),
        "first_name": "OmniRoute",
        "last_name": "2348030000001",
        "phone": "+2348030000001",
    }
    assigned = json.loads(fakes.paystack.requests[1].body)
    assert assigned == {"customer": account.customer_code, "preferred_bank": "wema-bank"}
    assert all(
        r.headers["Authorization"] == f"Bearer {paystack.SECRET_KEY}"
        for r in fakes.paystack.requests
    )


async def test_a_transfer_into_the_account_pays_the_matching_order_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    small = await ngozi_order(services, "o1", quantity=3)
    large = await ngozi_order(services, "o2", quantity=5)
    await payments(services).pay(pay(small, Method.BANK_TRANSFER, "p1"))
    for_large = await payments(services).pay(pay(large, Method.BANK_TRANSFER, "p2"))
    kobo = int(large.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(for_large.details["account_number"], kobo)

    assert await deliver(gateway, body, headers) == 200
    assert await deliver(gateway, body, headers) == 200  # Paystack retries: one effect

    assert (await payments(services).get(for_large.id)).status is IntentStatus.SUCCEEDED
    assert (await services.orders.get(large.reference)).paid_at is not None
    assert (await services.orders.get(small.reference)).paid_at is None
    succeeded = await events(services, "PaymentSucceeded")
    assert [e["order_reference"] for e in succeeded] == [large.reference]


async def test_money_with_no_open_order_is_recorded_as_the_customers(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], 50_000)
    assert await deliver(gateway, body, headers) == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.REQUIRES_ACTION
    unmatched = await events(services, "UnmatchedFundsReceived")
    assert [(e["amount"], e["customer"]) for e in unmatched] == [("500.00", NGOZI.e164)]


async def test_a_forged_or_unsigned_webhook_is_403_and_pays_nothing(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], kobo)
    tampered = body.replace(b'"status": "success"', b'"status": "success" ')
    assert await deliver(gateway, tampered, headers) == 403
    assert await deliver(gateway, body, {"Content-Type": "application/json"}) == 403
    wrong_key = {"x-paystack-signature": "0" * 128, "Content-Type": "application/json"}
    assert await deliver(gateway, body, wrong_key) == 403
    assert (await payments(services).get(intent.id)).status is IntentStatus.REQUIRES_ACTION
    assert await events(services, "PaymentSucceeded") == []


async def test_ussd_charge_gives_a_code_to_dial_and_completes_on_the_webhook(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.PAYSTACK))
    assert intent.status is IntentStatus.REQUIRES_ACTION
    assert intent.details["ussd_code"].startswith("*737*")
    charge = json.loads(fakes.paystack.requests[0].body)
    assert charge["amount"] == str(int(order.total.amount * 100))
    assert charge["reference"] == intent.reference
    assert charge["ussd"] == {"type": "737"}
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert await deliver(gateway, body, headers) == 200
    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED


async def test_a_short_payment_does_not_pay_the_order(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.PAYSTACK))
    fakes.paystack.charges[intent.reference].amount = 100  # NGN 1.00 instead of the total
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert await deliver(gateway, body, headers) == 200
    assert (await payments(services).get(intent.id)).status is not IntentStatus.SUCCEEDED
    assert (await services.orders.get(order.reference)).paid_at is None


async def test_crash_after_the_charge_is_recovered_by_verify_without_charging_twice(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The process dies between Paystack's answer and our write: the requery verifies."""
    order = await ngozi_order(services)
    crashing = crashing_service(services, "paystack")
    with pytest.raises(ProcessKilledError):
        await crashing.pay(pay(order, Method.PAYSTACK))
    service = payments(services)
    (intent,) = await service.for_order(order.reference)
    assert intent.status is IntentStatus.UNKNOWN

    # The customer retries checkout with the same key: no second charge.
    again = await service.pay(pay(order, Method.PAYSTACK))
    assert again.status is IntentStatus.UNKNOWN
    fakes.paystack.charges[intent.reference].status = "success"  # the customer dialled
    clock.advance(180)
    report = await service.requery()
    assert report.settled == 1
    assert (await service.get(intent.id)).status is IntentStatus.SUCCEEDED
    charges = [r for r in fakes.paystack.requests if r.path == "/charge"]
    assert len(charges) == 1
    assert (await services.orders.get(order.reference)).paid_at is not None


async def test_an_unpaid_checkout_expires_and_money_that_comes_later_is_still_recorded(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order = await ngozi_order(services)
    service = payments(services)
    intent = await service.pay(pay(order, Method.PAYSTACK))
    clock.advance(180)
    await service.requery()  # Paystack: still "ongoing"
    assert (await service.get(intent.id)).is_open
    clock.advance(25 * 3600)
    await service.requery()
    expired = await service.get(intent.id)
    assert (expired.status, expired.failure_reason) == (IntentStatus.CANCELLED, "expired")

    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert await deliver(gateway, body, headers) == 200
    assert (await service.get(intent.id)).status is IntentStatus.SUCCEEDED
    [succeeded] = await events(services, "PaymentSucceeded")
    assert succeeded["late"] is True
    assert (await services.orders.get(order.reference)).paid_at is not None


async def test_the_requery_asks_the_longest_waiting_first_and_each_at_most_once_a_period(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    order = await ngozi_order(services)
    service = payments(services)
    await service.pay(pay(order, Method.PAYSTACK, "a"))
    await service.pay(pay(order, Method.PAYSTACK, "b"))
    clock.advance(180)
    assert (await service.requery(limit=1)).checked == 1
    assert (await service.requery(limit=1)).checked == 1  # the other one, not the same again
    verified = [r.path for r in fakes.paystack.requests if "/verify/" in r.path]
    assert len(set(verified)) == 2
    assert (await service.requery()).checked == 0  # both were just asked


async def test_money_with_no_open_order_is_credited_to_the_customer_on_the_ledger_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """A transfer that pays no order (too little, or no order open) is still the customer's
    money: the books show it held at Paystack and owed back to her, once however often the
    webhook comes, so reconciliation finds it and her balance shows it."""
    money = services.money
    assert money is not None
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], 50_000)
    assert await deliver(gateway, body, headers) == 200
    assert await deliver(gateway, body, headers) == 200
    await services.relay.drain()
    await services.relay.drain()

    held = await money.ledger.account("rail:paystack:NGN")
    assert held.balance == Money(Decimal("450.00"), "NGN")  # less the NGN 50 Paystack keeps
    owed = await money.ledger.account(f"customer:{NGOZI.e164}:receivable:NGN")
    assert owed.balance == Money(Decimal("-500.00"), "NGN")
    assert (await money.ledger.check()).balanced


async def test_money_short_of_her_order_is_acknowledged_by_sms_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """The checkout told her she would get an SMS when her transfer arrived: she does, even
    when it does not pay the order yet (what is still to pay is said), once however often the
    webhook comes."""
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], 50_000)
    for _ in range(2):
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)
    texts = [s.message for s in fakes.sms.sent_to(NGOZI.e164)]
    due = (order.total - Money(Decimal(500), "NGN")).format()
    assert [t for t in texts if "received" in t] == [
        f"OmniRoute: we received NGN 500.00 for order {order.reference}. {due} is still to pay."
    ]


async def test_a_transfer_of_more_than_the_order_says_by_sms_once_what_was_kept_as_credit(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi sends NGN 1,000 more than her order cost: it pays the order, and she is told
    once, however often the webhook comes, that the NGN 1,000 is kept as credit."""
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    kobo = int(order.total.amount * 100) + 100_000
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], kobo)
    for _ in range(2):
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)

    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    texts = [s.message for s in fakes.sms.sent_to(NGOZI.e164)]
    assert [t for t in texts if "more than" in t] == [
        f"OmniRoute: you sent NGN 1,000.00 more than order {order.reference} cost. It is kept"
        " as credit on your account."
    ]


async def test_parts_adding_up_to_more_than_the_order_say_once_what_was_kept_as_credit(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi sends NGN 500, then the rest and NGN 1,000 more: the second pays the order and she
    is told the NGN 1,000 is kept as credit, as if she had sent it all at once."""
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    account = intent.details["account_number"]
    rest = int(order.total.amount * 100) - 50_000 + 100_000
    for kobo in (50_000, rest):
        body, headers = fakes.paystack.transfer_to_account(account, kobo)
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)

    assert (await payments(services).get(intent.id)).status is IntentStatus.SUCCEEDED
    texts = [s.message for s in fakes.sms.sent_to(NGOZI.e164)]
    assert [t for t in texts if "more than" in t] == [
        f"OmniRoute: you sent NGN 1,000.00 more than order {order.reference} cost. It is kept"
        " as credit on your account."
    ]


async def test_a_transfer_of_exactly_the_order_total_says_nothing_of_credit(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], kobo)
    assert await deliver(gateway, body, headers) == 200
    await flush_outbox(services)

    texts = [s.message for s in fakes.sms.sent_to(NGOZI.e164)]
    assert [t for t in texts if "received" in t]
    assert [t for t in texts if "credit" in t] == []


async def test_what_paystack_keeps_of_a_transfer_is_netted_out_of_the_days_settlement(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Paystack settles a charge less its `fees`: the books say it holds that much less, and
    the distributor's day is paid what was collected less that fee and the commission."""
    money = services.money
    assert money is not None
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(intent.details["account_number"], kobo)
    assert json.loads(body)["data"]["fees"] == 5000  # NGN 50.00
    for _ in range(2):
        assert await deliver(gateway, body, headers) == 200
        await services.relay.drain()

    fee = Money(Decimal("50.00"), "NGN")
    assert (await money.ledger.account("fees:paystack:NGN")).balance == fee
    assert (await money.ledger.account("rail:paystack:NGN")).balance == order.total - fee
    lagos = next(d for d in DISTRIBUTORS if d.name == "lagos")
    today = clock.now().date()
    clock.advance(24 * 3600)  # the day is over: the night's run
    batch = await money.settlement.settle_day(lagos, today)
    assert (batch.gross, batch.fees) == (order.total, fee)
    assert batch.net == order.total - fee - batch.commission
    assert (await money.ledger.check()).balanced


async def test_a_transfer_pays_the_order_still_waiting_not_one_that_was_cancelled(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi cancels an order she meant to pay by transfer and orders the same again: her
    transfer pays the new order, not the cancelled one (which would leave the new one unpaid
    and send her money back)."""
    cancelled = await ngozi_order(services, "o1")
    first = await payments(services).pay(pay(cancelled, Method.BANK_TRANSFER, "p1"))
    await services.orders.advance(cancelled.reference, OrderStatus.CANCELLED)
    again = await ngozi_order(services, "o2")
    second = await payments(services).pay(pay(again, Method.BANK_TRANSFER, "p2"))
    assert again.total == cancelled.total

    kobo = int(again.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(second.details["account_number"], kobo)
    for _ in range(2):
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)

    assert (await payments(services).get(second.id)).status is IntentStatus.SUCCEEDED
    assert (await services.orders.get(again.reference)).paid_at is not None
    assert (await payments(services).get(first.id)).status is IntentStatus.REQUIRES_ACTION
    assert [r for r in fakes.paystack.requests if r.path == "/refund"] == []


async def test_money_sent_while_a_refund_of_hers_is_pending_is_hers_not_the_refund(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi's paid order is being refunded (Paystack takes days to settle a refund); she sends
    NGN 5,000 into her account meanwhile. It is her money, acknowledged and on her account: it
    is not taken as Paystack's word that the refund went (which marked the refund done, and
    left her NGN 5,000 off the books, a refund being nobody's payment)."""
    order = await ngozi_order(services)
    intent = await payments(services).pay(pay(order, Method.BANK_TRANSFER))
    account = intent.details["account_number"]
    kobo = int(order.total.amount * 100)
    body, headers = fakes.paystack.transfer_to_account(account, kobo)
    assert await deliver(gateway, body, headers) == 200
    refund = await payments(services).refund(intent.id, Money(Decimal(1000), "NGN"), key="r-1")
    assert refund.is_open
    await flush_outbox(services)

    body, headers = fakes.paystack.transfer_to_account(account, 500_000)
    assert await deliver(gateway, body, headers) == 200
    await flush_outbox(services)

    assert (await payments(services).get(refund.id)).is_open
    assert fakes.sms.sent_to(NGOZI.e164)[-1].message == (
        "OmniRoute: we received NGN 5,000.00. Thank you!"
    )
    assert services.money is not None
    owed = await services.money.ledger.account(f"customer:{NGOZI.e164}:receivable:NGN")
    assert owed.balance == Money(-order.total.amount - Decimal(5000), "NGN")


async def test_the_rest_of_an_order_paid_in_parts_coming_after_its_cancel_keeps_all_as_credit(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Ngozi sends NGN 10,000 twice towards her NGN 26,993.25 order, it is cancelled, and then
    the rest comes. None of it can go back (the parts are only counted on the payment, and
    Paystack refunds no more than one transaction): all she sent for it stays her credit, and
    she is told so once (what went beyond the order's price by its own text, as ever). Before,
    a refund of the whole order was asked against the last transfer alone, which Paystack
    refuses (it refunds no more than a transaction brought), leaving a failed refund."""
    order = await ngozi_order(services)
    intent = await payments(services).pay(
        pay(order, Method.BANK_TRANSFER, key=f"order:{order.reference}")
    )
    account = intent.details["account_number"]
    for kobo in (1_000_000, 1_000_000):
        body, headers = fakes.paystack.transfer_to_account(account, kobo)
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED)
    await flush_outbox(services)
    rest = int(order.total.amount * 100) - 2_000_000 + 100_000  # NGN 1,000 more than is due
    body, headers = fakes.paystack.transfer_to_account(account, rest)
    for _ in range(2):
        assert await deliver(gateway, body, headers) == 200
        await flush_outbox(services)

    assert [r for r in fakes.paystack.requests if r.path == "/refund"] == []
    assert [i.direction for i in await payments(services).for_order(order.reference)] == [
        Direction.COLLECT
    ]
    texts = [s.message for s in fakes.sms.sent_to(NGOZI.e164)]
    assert [t for t in texts if "closed" in t or "more than" in t] == [
        f"OmniRoute: you sent NGN 1,000.00 more than order {order.reference} cost. It is kept"
        " as credit on your account.",
        f"OmniRoute: we received NGN 26,993.25 in all for order {order.reference}, which is"
        " closed. It is kept as credit on your account.",
    ]
    sent = order.total + Money(Decimal(1000), "NGN")
    assert services.money is not None
    mine = await services.money.ledger.account(f"customer:{NGOZI.e164}:receivable:NGN")
    assert mine.balance == Money(-sent.amount, "NGN")
