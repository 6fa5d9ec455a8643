"""Refunds sent through the rails: an M-Pesa payment reversed (or a part paid back by B2C), a
Paystack charge refunded, a Flutterwave one too, and the order workflow's refund port asking
for it; each sent once, and the payment's posting reversed on the ledger once."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import ROUND_UP, Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import engines.payments.service as payments_service
from core.app.bootstrap import Services
from core.app.money import DISTRIBUTORS
from core.app.refunds import NothingToRefundError, pending_lines
from core.app.workflow_payments import IntentRail
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.adapters import PendingEngines
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import PaymentStatus, RefundRequest
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import (
    CreatePayment,
    Direction,
    IntentStatus,
    Method,
    PaymentIntent,
    RefundRefusedError,
)
from engines.settlement import Match, parse_statement
from tests.support.logs import captured_logs
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
JUMA = Phone("+254711000001")
NGOZI = Phone("+2348030000001")
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def place(services: Services, who: Phone, region: RegionCode, key: str) -> Order:
    method = PaymentMethod.MPESA if region is RegionCode.NAIROBI else PaymentMethod.PAYSTACK
    return await services.orders.place(
        PlaceOrder(
            customer=who,
            region=region,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=method,
            idempotency_key=key,
            clear_cart=False,
        )
    )


async def paid_by_mpesa(
    gateway: Client, services: Services, fakes: PaymentFakes, *, checkout: bool = False
) -> Order:
    """Juma's order paid by M-Pesa, the STK push answered and its callback handled; `checkout`
    keys the payment on the order, as the checkout does."""
    assert services.payments is not None
    order = await place(services, JUMA, RegionCode.NAIROBI, "refund-mpesa")
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}" if checkout else "pay-mpesa",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    target, body = fakes.daraja.pay(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    return order


async def held_at(services: Services, account: str) -> Decimal:
    assert services.money is not None
    return (await services.money.ledger.account(account)).balance.amount


async def test_an_mpesa_payment_is_refunded_by_a_reversal_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    paid = Decimal(fakes.daraja.pushes[0].body["Amount"])  # whole shillings, rounded up
    assert await held_at(services, "rail:mpesa:KES") == paid

    refund = await services.refunds.refund_order(order.reference, order.total, key="r1")
    again = await services.refunds.refund_order(order.reference, order.total, key="r1")

    assert again.id == refund.id
    assert (refund.direction, refund.status) == (Direction.REFUND, IntentStatus.PROCESSING)
    [reversal] = fakes.daraja.reversals
    assert reversal.body["CommandID"] == "TransactionReversal"
    assert reversal.body["TransactionID"] == fakes.daraja.pushes[0].receipt
    assert reversal.body["Amount"] == fakes.daraja.pushes[0].body["Amount"]
    assert reversal.body["RecieverIdentifierType"] == "11"
    with pytest.raises(RefundRefusedError):  # nothing is left to give back
        await services.refunds.refund_order(order.reference, order.total, key="r2")

    target, body = fakes.daraja.reversal_result(reversal)
    for _ in range(2):
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)
    assert services.payments is not None
    assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED
    assert await held_at(services, "rail:mpesa:KES") == 0  # the posting is reversed, once
    assert await held_at(services, f"customer:{JUMA.e164}:receivable:KES") >= 0


async def test_an_mpesa_payment_the_requery_settled_is_booked_as_charged_and_refunded(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The STK callback is lost and the requery learns the payment succeeded; Daraja's STK
    query names neither the receipt nor the amount. The books still hold the whole shillings
    charged, and a refund, with no receipt to reverse, pays it all back by B2C."""
    assert services.payments is not None
    assert services.refunds is not None
    order = await place(services, JUMA, RegionCode.NAIROBI, "refund-requeried")
    await services.payments.pay(
        CreatePayment(
            idempotency_key="pay-requeried",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    fakes.daraja.pay(fakes.daraja.pushes[0])  # the money moved; the callback never comes
    clock.advance(180)
    assert (await services.payments.requery()).settled == 1
    await flush_outbox(services)
    charged = Decimal(fakes.daraja.pushes[0].body["Amount"])  # 2,522: rounded up
    assert await held_at(services, "rail:mpesa:KES") == charged

    refund = await services.refunds.refund_order(order.reference, order.total, key="r1")

    assert refund.status is IntentStatus.PROCESSING
    assert fakes.daraja.reversals == []
    [b2c] = fakes.daraja.payouts
    assert (b2c.body["PartyB"], b2c.body["Amount"]) == ("254711000001", charged)
    target, body = fakes.daraja.b2c_result(b2c)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    assert await held_at(services, "rail:mpesa:KES") == 0


async def test_two_refunds_of_one_payment_at_once_cannot_give_back_more_than_was_paid(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Two refunds under different keys race: each asks for more than half the payment, so
    only one of them may go to the rail; the other is refused."""
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    over_half = Money((order.total.amount / 2).to_integral_value(ROUND_UP) + 1, "KES")

    answers = await asyncio.gather(
        services.refunds.refund_order(order.reference, over_half, key="race-1"),
        services.refunds.refund_order(order.reference, over_half, key="race-2"),
        return_exceptions=True,
    )

    refused = [a for a in answers if isinstance(a, RefundRefusedError)]
    sent = [a for a in answers if not isinstance(a, BaseException)]
    assert (len(sent), len(refused)) == (1, 1), answers
    assert len(fakes.daraja.payouts) == 1  # one B2C payment back, of the refund that was sent


async def test_a_reversal_whose_result_never_came_is_settled_by_a_status_query(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The reversal's result is lost: the requery asks by the OriginatorConversationID Daraja
    gave the reversal, and its answer settles the refund once."""
    assert services.refunds is not None
    assert services.payments is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    refund = await services.refunds.refund_order(order.reference, order.total, key="r1")
    [reversal] = fakes.daraja.reversals
    clock.advance(180)
    await services.payments.requery()

    [query] = fakes.daraja.status_queries
    assert query.body["CommandID"] == "TransactionStatusQuery"
    assert query.body["OriginatorConversationID"] == reversal.body["OriginatorConversationID"]
    target, body = fakes.daraja.status_result(query)
    for _ in range(2):
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)
    assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED
    assert await held_at(services, "rail:mpesa:KES") == 0  # the posting is reversed, once

    target, body = fakes.daraja.reversal_result(reversal)  # late: changes nothing
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    assert await held_at(services, "rail:mpesa:KES") == 0


async def test_part_of_an_mpesa_payment_is_paid_back_by_b2c(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    part = Money(Decimal(100), "KES")

    await services.refunds.refund_order(order.reference, part, key="part-1")

    assert fakes.daraja.reversals == []
    [b2c] = fakes.daraja.payouts
    assert (b2c.body["PartyB"], b2c.body["Amount"]) == ("254711000001", 100)
    target, body = fakes.daraja.b2c_result(b2c)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    paid = Decimal(fakes.daraja.pushes[0].body["Amount"])
    assert await held_at(services, "rail:mpesa:KES") == paid - 100


async def test_an_mpesa_payment_given_back_in_parts_never_pays_back_more_than_was_charged(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Two parts of KES 100.50 by B2C: M-Pesa pays whole shillings, so the first sends 100
    (the 50 cents kept, recorded on the refund) and the second 101 — 201 in all, not 202."""
    assert services.refunds is not None
    assert services.payments is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    part = Money(Decimal("100.50"), "KES")
    sent = []
    for n in (1, 2):
        refund = await services.refunds.refund_order(order.reference, part, key=f"part-{n}")
        b2c = fakes.daraja.payouts[-1]
        sent.append(b2c.body["Amount"])
        target, body = fakes.daraja.b2c_result(b2c)
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)
        assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED

    assert sent == [100, 101]
    first = await services.payments.by_key("refund:part-1")
    assert first is not None
    assert first.details["kept"] == "0.50"  # the cents M-Pesa could not send, recorded
    paid = Decimal(fakes.daraja.pushes[0].body["Amount"])
    assert await held_at(services, "rail:mpesa:KES") == paid - 201


async def paid_by_paystack(
    gateway: Client, services: Services, fakes: PaymentFakes, key: str
) -> tuple[Order, PaymentIntent]:
    """Ngozi's order, paid by Paystack: the charge confirmed by its webhook."""
    assert services.payments is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, key)
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"pay-{key}",
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    body, headers = fakes.paystack.customer_dials(intent.reference)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    return order, intent


async def test_a_paystack_charge_is_refunded_and_settled_by_the_refund_webhook(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    assert services.refunds is not None
    order, intent = await paid_by_paystack(gateway, services, fakes, "refund-paystack")

    refund = await services.refunds.refund_order(order.reference, order.total, key="ps-1")

    [request] = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert request["transaction"] == intent.reference
    assert request["amount"] == int(order.total.amount * 100)
    [refund_id] = fakes.paystack.refunds
    assert refund.provider_reference == str(refund_id)
    body, headers = fakes.paystack.refund_result(refund_id)
    for _ in range(2):
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)
    assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED
    assert await held_at(services, "rail:paystack:NGN") == 0


async def test_a_paystack_refund_needing_attention_is_shown_to_operators_and_settled_later_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Paystack holds the refund in `needs-attention`: it stays open, the requery keeps asking,
    a warning is logged once and `omniroute refunds pending` names it; when Paystack processes
    it, the refund settles and the ledger gives the money back once."""
    assert services.payments is not None
    assert services.refunds is not None
    order, _ = await paid_by_paystack(gateway, services, fakes, "refund-attention")
    refund = await services.refunds.refund_order(order.reference, order.total, key="ps-att")
    [refund_id] = fakes.paystack.refunds
    fakes.paystack.refund_needs_attention(refund_id)

    with captured_logs(payments_service) as logs:
        for _ in range(3):
            clock.advance(180)
            await services.payments.requery()
    asked = [r for r in fakes.paystack.requests if r.path == f"/refund/{refund_id}"]

    assert len(asked) == 3
    assert (await services.payments.get(refund.id)).status is IntentStatus.PROCESSING
    assert [e["intent"] for e in logs if e["event"] == "payments.needs_attention"] == [
        str(refund.id)
    ]
    listed = pending_lines(await services.payments.pending_refunds())
    assert listed[-1] == "1 refunds pending, 1 waiting on someone"
    assert f"order {order.reference} refund {refund.id.hex} processing: Paystack" in listed[0]
    assert "needs attention" in listed[0]

    fakes.paystack.refunds[refund_id]["status"] = "processed"  # someone acted on the dashboard
    body, headers = fakes.paystack.refund_result(refund_id)
    for _ in range(2):
        clock.advance(180)
        await services.payments.requery()
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)

    assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED
    assert await held_at(services, "rail:paystack:NGN") == 0  # given back once, not twice
    assert pending_lines(await services.payments.pending_refunds()) == [
        "0 refunds pending, 0 waiting on someone"
    ]


async def test_two_paystack_refunds_of_one_charge_are_each_settled_by_their_own_webhook(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Paystack's refund events name the charge and the amount, not the refund: each still
    settles its own refund, in whatever order they come, and a redelivery changes nothing."""
    assert services.payments is not None
    assert services.refunds is not None
    order, _intent = await paid_by_paystack(gateway, services, fakes, "refund-paystack-parts")
    first = await services.refunds.refund_order(
        order.reference, Money(Decimal(100), "NGN"), key="a"
    )
    second = await services.refunds.refund_order(
        order.reference, Money(Decimal(250), "NGN"), key="b"
    )
    first_id, second_id = fakes.paystack.refunds

    failed = fakes.paystack.refund_result(first_id, ok=False)
    processed = fakes.paystack.refund_result(second_id)
    for body, headers in (processed, failed, processed):
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)

    assert (await services.payments.get(second.id)).status is IntentStatus.SUCCEEDED
    assert (await services.payments.get(first.id)).status is IntentStatus.FAILED
    assert await held_at(services, "rail:paystack:NGN") == order.total.amount - 250


async def test_a_flutterwave_payment_is_refunded_and_a_pending_refund_settled_by_requery(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.payments is not None
    assert services.refunds is not None
    order = await place(services, NGOZI, RegionCode.LAGOS, "refund-flw")
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key="pay-flw",
            method=Method.FLUTTERWAVE,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    body, headers = fakes.flutterwave.complete(intent.reference)
    assert (await gateway.post("/webhooks/flutterwave", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    fakes.flutterwave.pend_refunds = True

    refund = await services.refunds.refund_order(order.reference, order.total, key="flw-1")

    [sent] = [r for r in fakes.flutterwave.requests if r.path.endswith("/refund")]
    assert sent.json == {"amount": f"{order.total.amount:f}"}
    assert refund.status is IntentStatus.PROCESSING
    [(refund_id, held)] = fakes.flutterwave.refunds.items()
    held["status"] = "completed"
    clock.advance(180)
    await services.payments.requery()
    await flush_outbox(services)
    assert (await services.payments.get(refund.id)).status is IntentStatus.SUCCEEDED
    assert refund.provider_reference == str(refund_id)
    # all of it went back; the fee Flutterwave kept of the payment is not returned
    kept = Decimal(str(fakes.flutterwave.payments[intent.reference]["app_fee"]))
    assert await held_at(services, "rail:flutterwave:NGN") == -kept


async def test_the_order_workflows_refund_port_sends_the_refund_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    port = IntentRail(
        services.payments,
        PendingEngines(SqlEffectLog(services.db, services.clock), services.clock),
        services.refunds,
    )
    request = RefundRequest(order.reference, order.total)

    first = await port.refund(request, key="order-wf:refund")
    retried = await port.refund(request, key="order-wf:refund")  # the activity retried

    assert first.status is PaymentStatus.PENDING
    assert retried == first
    assert len(fakes.daraja.reversals) == 1
    unpaid = await place(services, JUMA, RegionCode.NAIROBI, "never-paid")
    with pytest.raises(NothingToRefundError):
        await services.refunds.refund_order(unpaid.reference, unpaid.total, key="x")
    recorded = await port.refund(RefundRequest(unpaid.reference, unpaid.total), key="wf2")
    assert recorded.status is PaymentStatus.PENDING  # recorded for an operator instead
    assert len(fakes.daraja.reversals) == 1


async def test_an_unwound_order_an_operator_partly_refunded_gets_only_the_rest_back(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """An operator gave back part of the payment (a damaged carton); the order is then unwound:
    the workflow's refund gives back the rest, not refused for asking the whole amount, and
    asks the rail once; with everything given back, there is nothing left to send."""
    assert services.payments is not None
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    part = Money(Decimal(100), "KES")
    operator = await services.refunds.refund_order(order.reference, part, key="operator-1")
    port = IntentRail(
        services.payments,
        PendingEngines(SqlEffectLog(services.db, services.clock), services.clock),
        services.refunds,
    )

    first = await port.refund(RefundRequest(order.reference, order.total), key="wf:refund")
    retried = await port.refund(RefundRequest(order.reference, order.total), key="wf:refund")

    assert first.status is PaymentStatus.PENDING
    assert retried == first
    assert first.paid == order.total - part
    # both are parts of the payment, so both are paid back by B2C: 100, then the rest of what
    # was charged (whole shillings, rounded up)
    pushed = Decimal(fakes.daraja.pushes[0].body["Amount"])
    assert [Decimal(p.body["Amount"]) for p in fakes.daraja.payouts] == [100, pushed - 100]
    assert fakes.daraja.reversals == []
    refunds = [
        i
        for i in await services.payments.for_order(order.reference)
        if i.direction is Direction.REFUND
    ]
    assert sorted(i.amount.amount for i in refunds) == sorted(
        [operator.amount.amount, (order.total - part).amount]
    )
    with pytest.raises(NothingToRefundError):
        await services.refunds.refund_up_to(order.reference, order.total, key="wf:again")
    assert len(fakes.daraja.payouts) == 2


async def test_a_refund_is_netted_out_of_the_distributors_settlement_and_reconciled(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Juma pays on Monday and Monday is settled (the distributor is owed 97 % of it); on
    Tuesday the payment is reversed (the result delivered twice): Tuesday's batch gives the
    refund back out of what the distributor is owed, once, however often it runs; what it
    owes is carried into Wednesday's, and Tuesday's M-Pesa statement, which shows the
    reversal, reconciles."""
    assert services.money is not None
    assert services.refunds is not None
    nairobi = next(d for d in DISTRIBUTORS if d.currency == "KES")
    monday, tuesday, wednesday = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)
    settlement = services.money.settlement
    order = await paid_by_mpesa(gateway, services, fakes)
    paid = Money(Decimal(fakes.daraja.pushes[0].body["Amount"]), "KES")
    receipt = fakes.daraja.pushes[0].receipt
    owed = f"distributor:{nairobi.name}:KES"
    clock.advance(15 * 3600)  # 03:00 on Tuesday in Nairobi: the night's run
    monday_batch = await settlement.settle_day(nairobi, monday)
    assert (monday_batch.gross, monday_batch.net) == (paid, paid - monday_batch.commission)
    await settlement.payout_confirmed(nairobi.name, monday)

    await services.refunds.refund_order(order.reference, order.total, key="r1")
    [reversal] = fakes.daraja.reversals
    target, body = fakes.daraja.reversal_result(reversal)
    for _ in range(2):
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)
    clock.advance(24 * 3600)
    tuesday_batch = await settlement.settle_day(nairobi, tuesday)
    assert await settlement.settle_day(nairobi, tuesday) == tuesday_batch

    assert tuesday_batch.net == Money.zero("KES") - monday_batch.net  # owed back
    assert await held_at(services, owed) == 0  # nothing more accrued, nothing paid out
    assert (tuesday_batch.payments, tuesday_batch.gross) == (0, Money.zero("KES"))
    assert tuesday_batch.refunds == paid  # once, though its result came twice
    assert tuesday_batch.commission == Money.zero("KES") - monday_batch.commission
    clock.advance(24 * 3600)
    wednesday_batch = await settlement.settle_day(nairobi, wednesday)
    assert wednesday_batch.carried == tuesday_batch.net
    assert wednesday_batch.net == tuesday_batch.net  # nothing came in: still owed back
    assert await held_at(services, owed) == 0
    assert (await services.money.ledger.check()).balanced

    statement = parse_statement(f"Receipt,Amount\n{receipt},-{paid.amount}\n", "KES")
    report = await settlement.reconcile("mpesa", "KES", tuesday, nairobi.timezone, statement)
    assert [(line.status, line.external_ref) for line in report.lines] == [(Match.MATCHED, receipt)]
    assert report.clean


async def test_my_orders_says_a_cancelled_order_given_back_by_mpesa_was_refunded(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's order paid by M-Pesa, cancelled and reversed: the app says REFUNDED, and My
    orders on USSD said "Cancelled, paid" (in Swahili, his default); it says refunded."""
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="customer")
    await services.refunds.refund_order(order.reference, order.total, key="cancelled")
    [reversal] = fakes.daraja.reversals
    target, body = fakes.daraja.reversal_result(reversal)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)

    juma = UssdPhone(gateway, JUMA.e164)
    await juma.dial()
    orders = await juma.choose("Oda zangu")  # My orders

    [line] = [line for line in orders.body.splitlines() if line.startswith(order.reference)]
    assert line.startswith(f"{order.reference} Imeghairiwa, imerudishwa "), line
