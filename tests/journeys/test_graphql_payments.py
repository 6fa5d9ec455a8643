"""An app pays an order over GraphQL as the USSD checkout does: the country's rail (an STK push
to a local Daraja, settled by its callback) or the customer's credit line, once per key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.credit import CreditStatus
from engines.orders import OrderStatus
from tests.support.credit import DELIVERED, credit_history
from tests.support.graphql import bearer, gql_session, post_graphql, run
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"
WANJIRU = "+254722000002"
NGOZI = "+2348030000001"
SKU = "NDL-INDO-CHK"
JSON = {"Content-Type": "application/json"}

PLACE = """
    mutation Place($input: PlaceOrderInput!) {
      placeOrder(input: $input) {
        order { reference status total { amount currency } payment { method status } }
        errors {
          __typename
          ... on UserError { message }
          ... on PaymentMethodUnavailable { method }
          ... on CreditRefused { reason available { amount currency } }
        }
      }
    }
    """

ORDER = """
    query Order($reference: String!) {
      order(reference: $reference) {
        __typename
        ... on Order { reference status payment { method status } }
      }
    }
    """


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


def _order(customer: str, method: str, key: str, **payment: str) -> dict[str, Any]:
    return {
        "input": {
            "customer": customer,
            "lines": [{"sku": SKU, "quantity": 3}],
            "payment": {"method": method, **payment},
            "idempotencyKey": key,
        }
    }


async def _on_shelf(services: Services, region: RegionCode) -> int:
    return await services.catalogue.available(region, SKU)


async def test_a_kenyan_app_pays_by_mpesa_once_and_sees_it_succeed(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        first = await run(session, PLACE, _order(JUMA, "MPESA", "app-mpesa-0001"))
        again = await run(session, PLACE, _order(JUMA, "MPESA", "app-mpesa-0001"))
        placed = first["placeOrder"]
        assert placed["errors"] == []
        order = placed["order"]
        assert order["status"] == "PLACED"
        assert order["total"] == {"amount": "2521.26", "currency": "KES"}
        assert order["payment"] == {"method": "MPESA", "status": "PROCESSING"}
        # The app retried: the same order, and Juma's phone rang once.
        assert again["placeOrder"]["order"]["reference"] == order["reference"]
        assert len(await services.orders.recent(Phone(JUMA))) == 1
        assert len(fakes.daraja.pushes) == 1
        push = fakes.daraja.push_for("254711000001")
        assert push.body["Amount"] == 2522
        assert push.body["AccountReference"] == order["reference"]

        target, body = fakes.daraja.pay(push)
        response = await gateway.post(
            target, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
        seen = await run(session, ORDER, {"reference": order["reference"]})
    assert seen["order"]["payment"] == {"method": "MPESA", "status": "SUCCEEDED"}
    assert (await services.orders.get(order["reference"])).paid_at is not None


async def test_another_phone_may_pay_by_mpesa(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order(JUMA, "MPESA", "app-mpesa-0002", phone=WANJIRU))
        abroad = await run(session, PLACE, _order(JUMA, "MPESA", "app-mpesa-0003", phone=NGOZI))
    assert result["placeOrder"]["errors"] == []
    [push] = fakes.daraja.pushes
    assert push.body["PhoneNumber"] == "254722000002"
    assert [e["__typename"] for e in abroad["placeOrder"]["errors"]] == ["InvalidCustomer"]


async def test_a_customer_with_a_credit_line_buys_on_credit(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA, SKU)
    limit = (await credit.decide(Phone(JUMA))).limit
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0001"))
        again = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0001"))
    placed = result["placeOrder"]
    assert placed["errors"] == []
    assert placed["order"]["status"] == "PLACED"
    assert placed["order"]["payment"]["method"] == "CREDIT"
    assert again["placeOrder"]["order"]["reference"] == placed["order"]["reference"]
    [held] = [c for c in await credit.credits(Phone(JUMA)) if c.status is CreditStatus.OPEN]
    assert (held.order_reference, held.outstanding) == (
        placed["order"]["reference"],
        Money(Decimal("2521.26"), "KES"),
    )
    # Held once, although the app asked twice; nothing charged on a rail.
    assert await credit.available(Phone(JUMA)) == limit - held.amount
    assert fakes.daraja.pushes == []


async def test_credit_without_a_line_is_refused_and_nothing_is_placed_or_texted(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Refused before placing, as USSD offers credit only when the line covers the order: no
    order, no stock held, and no SMS confirming an order that would be cancelled at once."""
    before = await _on_shelf(services, RegionCode.NAIROBI)
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0002"))
        retry = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0002"))
    placed = result["placeOrder"]
    assert placed["order"] is None
    [error] = placed["errors"]
    assert error["__typename"] == "CreditRefused"
    assert error["reason"] == "no_credit"
    assert error["available"] == {"amount": "0.00", "currency": "KES"}
    assert [e["__typename"] for e in retry["placeOrder"]["errors"]] == ["CreditRefused"]
    assert await _on_shelf(services, RegionCode.NAIROBI) == before
    assert await services.orders.recent(Phone(JUMA)) == []
    await services.relay.drain()
    texts = await services.notifications.for_recipient(Phone(JUMA))
    assert [d.dedupe_key for d in texts if d.dedupe_key.startswith("order-placed-sms:")] == []
    assert fakes.daraja.pushes == []


async def test_an_order_beyond_what_is_left_of_the_credit_line_is_refused_unplaced(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA, SKU)
    await credit.decide(Phone(JUMA))
    left = await credit.available(Phone(JUMA))
    headers = bearer(services.settings, JUMA, "customer")
    big = _order(JUMA, "CREDIT", "app-credit-0003")
    one = await services.pricing.quote(RegionCode.NAIROBI, [(SKU, 1)], customer=Phone(JUMA))
    quantity = int(left.amount / one.total.amount) + 2  # just beyond the line, on the shelf
    assert quantity <= await _on_shelf(services, RegionCode.NAIROBI)
    big["input"]["lines"] = [{"sku": SKU, "quantity": quantity}]
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, big)
    [error] = result["placeOrder"]["errors"]
    assert (error["__typename"], error["reason"]) == ("CreditRefused", "insufficient")
    assert error["available"] == {"amount": str(left.amount), "currency": "KES"}
    assert [
        o for o in await services.orders.recent(Phone(JUMA)) if o.payment_method.value == "CREDIT"
    ] == []
    assert await credit.available(Phone(JUMA)) == left


async def test_an_overdue_retailer_is_told_so_and_nothing_is_placed(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """With a credit overdue, the app was told 'no_credit' (or the order was placed, texted
    and cancelled at once): the retailer must hear that the overdue credit is the reason."""
    assert services.money is not None
    await credit_history(services, clock, JUMA, SKU)
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        first = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0004"))
        assert first["placeOrder"]["errors"] == []
        for status in DELIVERED:  # delivered at once: due in 7 days
            await services.orders.advance(first["placeOrder"]["order"]["reference"], status)
        await services.relay.drain()
        clock.advance(8 * 86_400)  # overdue
        result = await run(session, PLACE, _order(JUMA, "CREDIT", "app-credit-0005"))
    [error] = result["placeOrder"]["errors"]
    assert (error["__typename"], error["reason"]) == ("CreditRefused", "overdue")
    assert result["placeOrder"]["order"] is None
    assert len(await services.orders.recent(Phone(JUMA))) == 1 + 3  # the first, the history


async def test_mpesa_is_not_offered_in_nigeria(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order(NGOZI, "MPESA", "app-mpesa-0004"))
        momo = await run(session, PLACE, _order(NGOZI, "MOMO", "app-momo-0001"))
    [error] = result["placeOrder"]["errors"]
    assert (error["__typename"], error["method"]) == ("PaymentMethodUnavailable", "MPESA")
    assert [e["__typename"] for e in momo["placeOrder"]["errors"]] == ["PaymentMethodUnavailable"]
    assert await services.orders.recent(Phone(NGOZI)) == []
    assert fakes.daraja.pushes == []


async def test_a_nigerian_app_pays_by_bank_transfer_to_the_account_it_is_shown(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(
            session,
            """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) {
                 order { reference total { amount }
                         payment { method status details { name value } } }
                 errors { __typename } } }""",
            _order(NGOZI, "BANK_TRANSFER", "app-transfer-0001"),
        )
    order = result["placeOrder"]["order"]
    [account] = fakes.paystack.accounts
    assert order["payment"]["status"] == "REQUIRES_ACTION"
    details = {d["name"]: d["value"] for d in order["payment"]["details"]}
    assert details["account_number"] == account.account_number


async def test_a_paystack_order_shows_the_bank_code_to_dial(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, NGOZI, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(
            session,
            """mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) {
                 order { payment { method status details { name value } } } } }""",
            _order(NGOZI, "PAYSTACK", "app-paystack-0001"),
        )
    payment = result["placeOrder"]["order"]["payment"]
    [charge] = fakes.paystack.charges.values()
    assert payment["method"] == "PAYSTACK"
    assert {"name": "ussd_code", "value": charge.ussd_code} in payment["details"]


async def test_a_push_daraja_refuses_leaves_the_order_placed_and_the_payment_failed(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    fakes.daraja.fail_next_push = 400
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        result = await run(session, PLACE, _order(JUMA, "MPESA", "app-mpesa-0005"))
    order = result["placeOrder"]["order"]
    assert order["status"] == "PLACED"
    assert order["payment"] == {"method": "MPESA", "status": "FAILED"}


async def test_the_order_list_shows_each_payment_as_its_rail_left_it(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        for key in ("app-list-0001", "app-list-0002"):
            await run(session, PLACE, _order(JUMA, "MPESA", key))
        await run(session, PLACE, _order(JUMA, "ON_DELIVERY", "app-list-0003"))
        target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        listed = await run(
            session, "{ orders(first: 5) { edges { node { payment { method status } } } } }"
        )
    payments = [e["node"]["payment"] for e in listed["orders"]["edges"]]
    assert payments == [  # newest first
        {"method": "ON_DELIVERY", "status": "PENDING"},
        {"method": "MPESA", "status": "PROCESSING"},
        {"method": "MPESA", "status": "SUCCEEDED"},
    ]


PAY_AGAIN = """
    mutation PayAgain($reference: String!) {
      payOrder(reference: $reference) {
        order { reference status payment { method status } }
        errors {
          __typename
          ... on UserError { message }
          ... on OrderNotPayable { status }
          ... on PaymentMethodUnavailable { method }
        }
      }
    }
    """


async def test_an_app_pays_again_after_the_mpesa_prompt_was_cancelled_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma cancels the M-Pesa prompt by mistake: his app asks for the money again, as Pay
    again on USSD does, and a double tap rings his phone once."""
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = await run(session, PLACE, _order(JUMA, "MPESA", "app-again-0001"))
        reference = placed["placeOrder"]["order"]["reference"]
        # While the first prompt is open, asking again rings nobody.
        early = await run(session, PAY_AGAIN, {"reference": reference})
        assert early["payOrder"]["errors"] == []
        assert early["payOrder"]["order"]["payment"] == {"method": "MPESA", "status": "PROCESSING"}
        assert len(fakes.daraja.pushes) == 1

        target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        again = await run(session, PAY_AGAIN, {"reference": reference})
        twice = await run(session, PAY_AGAIN, {"reference": reference})
        assert again["payOrder"]["errors"] == twice["payOrder"]["errors"] == []
        assert again["payOrder"]["order"]["payment"] == {"method": "MPESA", "status": "PROCESSING"}
        first, second = fakes.daraja.pushes
        assert second.checkout_id != first.checkout_id
        assert second.body["AccountReference"] == reference
        assert second.body["Amount"] == first.body["Amount"] == 2522

        target, body = fakes.daraja.pay(second)
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        paid = await run(session, PAY_AGAIN, {"reference": reference})
        assert paid["payOrder"]["order"]["payment"] == {"method": "MPESA", "status": "SUCCEEDED"}
    assert len(fakes.daraja.pushes) == 2
    assert (await services.orders.get(reference)).paid_at is not None


ASKED = """
    mutation Place($input: PlaceOrderInput!) {
      placeOrder(input: $input) {
        order { reference total { amount } payment { requestedAmount { amount currency } } }
      }
    }
    """

PAY_AGAIN_ASKED = """
    mutation PayAgain($reference: String!) {
      payOrder(reference: $reference) {
        order { payment { status requestedAmount { amount currency } } }
      }
    }
    """


async def test_an_app_is_told_the_whole_shillings_the_mpesa_prompt_asks(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's total is KES 2,521.26: his phone's M-Pesa prompt asks KES 2,522, as USSD's closing
    screen says, so the app can say so too, on placing and on paying again. Cash asks nothing."""
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = (await run(session, ASKED, _order(JUMA, "MPESA", "app-asked-0001")))["placeOrder"]
        cash = (await run(session, ASKED, _order(JUMA, "ON_DELIVERY", "app-asked-0002")))[
            "placeOrder"
        ]
        target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        again = await run(session, PAY_AGAIN_ASKED, {"reference": placed["order"]["reference"]})
    assert placed["order"]["total"] == {"amount": "2521.26"}
    asked = {"amount": "2522.00", "currency": "KES"}
    assert placed["order"]["payment"] == {"requestedAmount": asked}
    assert again["payOrder"]["order"]["payment"] == {
        "status": "PROCESSING",
        "requestedAmount": asked,
    }
    assert [p.body["Amount"] for p in fakes.daraja.pushes] == [2522, 2522]
    assert cash["order"]["payment"] == {"requestedAmount": None}


async def test_paying_again_a_closed_a_cash_or_someone_elses_order_asks_nobody(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    juma = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, juma) as session:
        placed = await run(session, PLACE, _order(JUMA, "MPESA", "app-again-0002"))
        cash = await run(session, PLACE, _order(JUMA, "ON_DELIVERY", "app-again-0003"))
        reference = placed["placeOrder"]["order"]["reference"]
        target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await services.orders.advance(reference, OrderStatus.CANCELLED, reason="customer")
        closed = await run(session, PAY_AGAIN, {"reference": reference})
        on_delivery = await run(
            session, PAY_AGAIN, {"reference": cash["placeOrder"]["order"]["reference"]}
        )
    async with gql_session(gateway, bearer(services.settings, WANJIRU, "customer")) as session:
        stranger = await run(session, PAY_AGAIN, {"reference": reference})
        nobody = await run(session, PAY_AGAIN, {"reference": "ZZZZZZ"})
    assert closed["payOrder"]["order"] is None
    assert closed["payOrder"]["errors"] == [
        {
            "__typename": "OrderNotPayable",
            "message": f"order {reference} is cancelled: nothing to pay",
            "status": "CANCELLED",
        }
    ]
    assert [e["__typename"] for e in on_delivery["payOrder"]["errors"]] == [
        "PaymentMethodUnavailable"
    ]
    # Someone else's order answers as one that does not exist.
    assert stranger["payOrder"]["errors"] == [
        {"__typename": "NotFound", "message": f"no order {reference}"}
    ]
    assert nobody["payOrder"]["errors"] == [
        {"__typename": "NotFound", "message": "no order ZZZZZZ"}
    ]
    assert len(fakes.daraja.pushes) == 1


async def _deliver(services: Services, reference: str, *, returned: bool = False) -> None:
    for status in (
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.DISPATCHED,
        OrderStatus.RETURNED if returned else OrderStatus.DELIVERED,
    ):
        await services.orders.advance(reference, status)


async def test_a_credit_order_delivered_shows_its_payment_owed_not_paid(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's goods on credit arrive: his app must still show the order owed (it falls due a
    week later, with a late fee after), not PAID; a pay-on-delivery order brought back at the
    door owes nothing, so it shows CANCELLED, not PENDING."""
    assert services.money is not None
    await credit_history(services, clock, JUMA, SKU)
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        on_credit = await run(session, PLACE, _order(JUMA, "CREDIT", "app-owed-0001"))
        cash = await run(session, PLACE, _order(JUMA, "ON_DELIVERY", "app-owed-0002"))
        credit_ref = on_credit["placeOrder"]["order"]["reference"]
        cash_ref = cash["placeOrder"]["order"]["reference"]
        await _deliver(services, credit_ref)
        await _deliver(services, cash_ref, returned=True)
        delivered = await run(session, ORDER, {"reference": credit_ref})
        returned = await run(session, ORDER, {"reference": cash_ref})
    assert delivered["order"]["status"] == "DELIVERED"
    assert delivered["order"]["payment"] == {"method": "CREDIT", "status": "PENDING"}
    [owed] = [
        c
        for c in await services.money.credit.credits(Phone(JUMA))
        if c.order_reference == credit_ref
    ]
    assert owed.outstanding.amount > 0
    assert returned["order"]["status"] == "RETURNED"
    assert returned["order"]["payment"] == {"method": "ON_DELIVERY", "status": "CANCELLED"}


async def test_a_paid_order_given_back_shows_its_payment_refunded_not_succeeded(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma paid by M-Pesa, then his order was cancelled and the money sent back: his app
    showed the payment SUCCEEDED beside the cancelled order, as if it had been kept. It shows
    what came back (`refunded`) once M-Pesa confirms it, and REFUNDED when all did."""
    assert services.refunds is not None
    query = """query($r: String!) { order(reference: $r) { ... on Order {
        status payment { method status refunded { amount currency } } } } }"""
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = await run(session, PLACE, _order(JUMA, "MPESA", "app-refund-0001"))
        reference = placed["placeOrder"]["order"]["reference"]
        target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        paid = await run(session, query, {"r": reference})
        await services.orders.advance(reference, OrderStatus.CANCELLED, reason="out of stock")
        order = await services.orders.get(reference)
        refund = await services.refunds.refund_order(reference, order.total, key="app-r1")
        asked = await run(session, query, {"r": reference})
        [reversal] = fakes.daraja.reversals
        target, body = fakes.daraja.reversal_result(reversal)
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        given_back = await run(session, query, {"r": reference})
    zero = {"amount": "0.00", "currency": "KES"}
    assert paid["order"]["payment"] == {"method": "MPESA", "status": "SUCCEEDED", "refunded": zero}
    # Asked of M-Pesa, not confirmed yet: nothing is shown as given back.
    assert asked["order"]["payment"]["refunded"] == zero
    assert given_back["order"]["status"] == "CANCELLED"
    assert given_back["order"]["payment"] == {
        "method": "MPESA",
        "status": "REFUNDED",
        "refunded": {"amount": str(refund.amount.amount), "currency": "KES"},
    }


REPAY = """
    mutation Repay($customer: String!, $method: PaymentMethod!) {
      repayCredit(customer: $customer, method: $method) {
        repayment { orderReference amount { amount currency } method status }
        errors { __typename ... on UserError { message } }
      }
    }
    """


async def test_an_app_repays_credit_by_mpesa_once_however_often_it_is_tapped(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma owes for goods bought on credit: his app repays it as Balance -> Repay does on
    USSD, a double tap rings his phone once, and once paid there is nothing left to repay."""
    assert services.money is not None
    await credit_history(services, clock, JUMA, SKU)
    juma = bearer(services.settings, JUMA, "customer")
    repay = {"customer": JUMA, "method": "MPESA"}
    async with gql_session(gateway, juma) as session:
        placed = await run(session, PLACE, _order(JUMA, "CREDIT", "app-repay-0001"))
        reference = placed["placeOrder"]["order"]["reference"]
        first = await run(session, REPAY, repay)
        twice = await run(session, REPAY, repay)
        cash = await run(session, REPAY, {**repay, "method": "ON_DELIVERY"})
        assert first["repayCredit"]["errors"] == twice["repayCredit"]["errors"] == []
        assert first["repayCredit"]["repayment"] == {
            "orderReference": reference,
            "amount": {"amount": "2521.26", "currency": "KES"},
            "method": "MPESA",
            "status": "PROCESSING",
        }
        [push] = fakes.daraja.pushes
        assert push.body["Amount"] == 2522
        assert push.body["PhoneNumber"] == "254711000001"
        target, body = fakes.daraja.pay(push)
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)  # the repayment reaches the credit line
        after = await run(session, REPAY, repay)
    assert [e["__typename"] for e in cash["repayCredit"]["errors"]] == ["PaymentMethodUnavailable"]
    assert after["repayCredit"]["repayment"] is None
    assert [e["__typename"] for e in after["repayCredit"]["errors"]] == ["NothingOwed"]
    [repaid] = [
        c
        for c in await services.money.credit.credits(Phone(JUMA))
        if c.order_reference == reference
    ]
    assert repaid.outstanding.amount == 0
    assert len(fakes.daraja.pushes) == 1
    _status, answer = await post_graphql(
        gateway, REPAY, repay, bearer(services.settings, WANJIRU, "customer")
    )
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


CANCEL = """
    mutation Cancel($reference: String!) {
      cancelOrder(reference: $reference) {
        order { reference status payment { method status } }
        errors {
          __typename
          ... on UserError { message }
          ... on OrderNotCancellable { status }
        }
      }
    }
    """


async def test_an_app_cancels_an_order_before_it_leaves_and_the_credit_it_held_comes_back(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma changes his mind about an order on credit: his app cancels it, as an operator
    would, the goods go back on the shelf and his credit line is free again; tapping twice
    is harmless, an order already on its way cannot be, and nobody cancels his for him."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA, SKU)
    juma = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, juma) as session:
        shelf = await _on_shelf(services, RegionCode.NAIROBI)
        placed = await run(session, PLACE, _order(JUMA, "CREDIT", "app-cancel-0001"))
        reference = placed["placeOrder"]["order"]["reference"]
        await flush_outbox(services)
        available = await credit.available(Phone(JUMA))
        first = await run(session, CANCEL, {"reference": reference})
        twice = await run(session, CANCEL, {"reference": reference})
        # The app never got placeOrder's answer and retries it: the order, cancelled, not a
        # credit refusal (his credit was fine; he cancelled it).
        retried = await run(session, PLACE, _order(JUMA, "CREDIT", "app-cancel-0001"))
        gone = await run(session, PLACE, _order(JUMA, "ON_DELIVERY", "app-cancel-0002"))
        late = gone["placeOrder"]["order"]["reference"]
        for status in (
            OrderStatus.CONFIRMED,
            OrderStatus.PICKING,
            OrderStatus.PACKED,
            OrderStatus.DISPATCHED,
        ):
            await services.orders.advance(late, status)
        too_late = await run(session, CANCEL, {"reference": late})
    await flush_outbox(services)
    _status, stranger = await post_graphql(
        gateway, CANCEL, {"reference": late}, bearer(services.settings, WANJIRU, "customer")
    )

    for answer in (first, twice):
        assert answer["cancelOrder"]["errors"] == []
        assert answer["cancelOrder"]["order"] == {
            "reference": reference,
            "status": "CANCELLED",
            "payment": {"method": "CREDIT", "status": "CANCELLED"},
        }
    assert retried["placeOrder"]["errors"] == []
    assert retried["placeOrder"]["order"]["reference"] == reference
    assert retried["placeOrder"]["order"]["status"] == "CANCELLED"
    assert too_late["cancelOrder"] == {
        "order": None,
        "errors": [
            {
                "__typename": "OrderNotCancellable",
                "message": f"order {late} is dispatched: too late to cancel",
                "status": "DISPATCHED",
            }
        ],
    }
    assert stranger["data"]["cancelOrder"]["errors"] == [
        {"__typename": "NotFound", "message": f"no order {late}"}
    ]
    assert (await services.orders.get(late)).status is OrderStatus.DISPATCHED
    # The cancelled order's goods are back; the dispatched one's are on the van.
    assert await _on_shelf(services, RegionCode.NAIROBI) == shelf - 3
    assert await credit.available(Phone(JUMA)) > available


LOCKED_QUOTE = """
    query Quote($input: QuoteInput!) {
      quote(input: $input) { total { amount currency } priceLock { id } }
    }
    """


async def test_a_credit_order_placed_with_a_price_lock_is_held_at_the_locked_total_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's app holds the quote and orders on credit with it: placed and held on his line at
    the quoted total. A second order with the same lock (another key) places nothing."""
    assert services.money is not None
    await credit_history(services, clock, JUMA, SKU)
    juma = bearer(services.settings, JUMA, "customer")
    lines = [{"sku": SKU, "quantity": 3}]
    async with gql_session(gateway, juma) as session:
        quoted = await run(session, LOCKED_QUOTE, {"input": {"customer": JUMA, "lines": lines}})
        lock = quoted["quote"]["priceLock"]["id"]
        first = _order(JUMA, "CREDIT", "app-lock-0001")
        first["input"]["priceLock"] = lock
        second = _order(JUMA, "ON_DELIVERY", "app-lock-0002")
        second["input"]["priceLock"] = lock
        placed = await run(session, PLACE, first)
        again = await run(session, PLACE, second)
    assert placed["placeOrder"]["errors"] == []
    assert placed["placeOrder"]["order"]["total"] == quoted["quote"]["total"]
    assert again["placeOrder"]["order"] is None
    assert again["placeOrder"]["errors"] == [
        {
            "__typename": "PriceChanged",
            "message": f"price lock {lock} was used for another order; quote again",
        }
    ]
    assert await services.orders.placed_with(f"gql:{JUMA}:app-lock-0002") is None
    [held] = [
        c for c in await services.money.credit.credits(Phone(JUMA)) if c.status is CreditStatus.OPEN
    ]
    assert str(held.amount.amount) == quoted["quote"]["total"]["amount"]


async def test_a_credit_order_with_a_used_or_expired_price_lock_is_told_to_quote_again(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma's app reuses the price lock of the credit order it just placed, then one that ran
    out: each is told the lock is used or expired (the app quotes again), not that his credit
    is refused, and nothing more is held on his line."""
    assert services.money is not None
    await credit_history(services, clock, JUMA, SKU)
    juma = bearer(services.settings, JUMA, "customer")
    lines = [{"sku": SKU, "quantity": 3}]
    async with gql_session(gateway, juma) as session:
        quoted = await run(session, LOCKED_QUOTE, {"input": {"customer": JUMA, "lines": lines}})
        lock = quoted["quote"]["priceLock"]["id"]
        first = _order(JUMA, "CREDIT", "app-used-0001")
        first["input"]["priceLock"] = lock
        second = _order(JUMA, "CREDIT", "app-used-0002")
        second["input"]["priceLock"] = lock
        placed = await run(session, PLACE, first)
        again = await run(session, PLACE, second)
        later = await run(
            session,
            LOCKED_QUOTE,
            {"input": {"customer": JUMA, "lines": [{**lines[0], "quantity": 1}]}},
        )
        clock.advance(16 * 60)
        late = _order(JUMA, "CREDIT", "app-used-0003")
        late["input"]["lines"] = [{**lines[0], "quantity": 1}]
        late["input"]["priceLock"] = later["quote"]["priceLock"]["id"]
        expired = await run(session, PLACE, late)
    assert placed["placeOrder"]["errors"] == []
    assert again["placeOrder"]["order"] is None
    assert again["placeOrder"]["errors"] == [
        {
            "__typename": "PriceChanged",
            "message": f"price lock {lock} was used for another order; quote again",
        }
    ]
    assert expired["placeOrder"]["order"] is None
    assert [e["__typename"] for e in expired["placeOrder"]["errors"]] == ["PriceChanged"]
    assert "expired" in expired["placeOrder"]["errors"][0]["message"]
    held = [
        c for c in await services.money.credit.credits(Phone(JUMA)) if c.status is CreditStatus.OPEN
    ]
    assert [str(c.amount.amount) for c in held] == [quoted["quote"]["total"]["amount"]]


async def test_an_app_paying_again_asks_mpesa_only_what_his_credit_leaves(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's prompt for KES 2,521.26 was cancelled and KES 1,000 of his own came to his
    account since: his app's Pay again asks M-Pesa the rest, KES 1,522, as USSD's does."""
    assert services.money is not None
    headers = bearer(services.settings, JUMA, "customer")
    async with gql_session(gateway, headers) as session:
        placed = (await run(session, ASKED, _order(JUMA, "MPESA", "app-kept-0001")))["placeOrder"]
        target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await services.money.books.post_payment_received(
            Phone(JUMA), Money(Decimal(1000), "KES"), "mpesa", "KEPT-JUMA"
        )
        again = await run(session, PAY_AGAIN_ASKED, {"reference": placed["order"]["reference"]})
    assert again["payOrder"]["order"]["payment"] == {
        "status": "PROCESSING",
        "requestedAmount": {"amount": "1522.00", "currency": "KES"},
    }
    assert [p.body["Amount"] for p in fakes.daraja.pushes] == [2522, 1522]
