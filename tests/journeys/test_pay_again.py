"""Pay again: Juma's M-Pesa prompt is cancelled (or times out) while his order is open; "My
orders" offers to pay it again, on the same rail under a new key — through the USSD endpoint
with Africa's Talking form bodies and the local Daraja. An order is never kept paid twice: a
late success of the payment given up on is refunded by reversal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.workflow_payments import IntentRail
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from engines.fulfilment.adapters import PendingEngines, SqlOrderDesk
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import PaymentStatus
from engines.orders import Order
from engines.payments import Direction, IntentStatus, PaymentService
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import SmsPhone, flush_outbox
from tests.support.providers.payments import PaymentFakes, events

Client = TestClient[web.Request, web.Application]
JUMA = "+254711000001"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


def payments(services: Services) -> PaymentService:
    assert services.payments is not None
    return services.payments


async def checkout_by_mpesa(juma: UssdPhone, services: Services) -> Order:
    await juma.dial()
    await juma.choose("Nunua")
    await juma.choose("Tambi na Pasta")
    await juma.choose("Indomie Chicken")
    await juma.press("3")
    await juma.choose("Lipia")
    await juma.choose("Chagua malipo")
    await juma.choose("M-Pesa")
    done = await juma.choose("Thibitisha")
    assert done.kind == "END"
    [order] = await services.orders.recent(Phone(JUMA))
    return order


async def test_a_cancelled_mpesa_prompt_is_paid_again_from_my_orders_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    juma = UssdPhone(gateway, JUMA)
    order = await checkout_by_mpesa(juma, services)
    # While the first prompt is open, nothing is offered.
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert not any("tena" in label for label in orders.labels)

    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert f"Lipa {order.reference} tena" in orders.labels
    again = await juma.choose("tena")
    assert again.kind == "END"
    assert again.body == (
        f"Oda {order.reference}: weka PIN yako ya M-Pesa kwenye ujumbe kulipa KES 2,521.26 "
        "(M-Pesa itaomba KES 2,522). Tutakutumia risiti kwa SMS."
    )
    # Africa's Talking repeats the request: the same answer, no third prompt.
    assert (await juma.resend()).body == again.body
    first, second = fakes.daraja.pushes
    assert second.checkout_id != first.checkout_id
    assert second.body["Amount"] == first.body["Amount"] == 2522
    assert second.body["AccountReference"] == order.reference
    intents = await payments(services).for_order(order.reference)
    assert [(i.idempotency_key, i.status) for i in intents] == [
        (f"order:{order.reference}", IntentStatus.FAILED),
        (f"order:{order.reference}:again:1", IntentStatus.PROCESSING),
    ]
    # The new prompt is open: Pay again is not offered a second time.
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert not any("tena" in label for label in orders.labels)

    target, body = fakes.daraja.pay(second)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    assert (await services.orders.get(order.reference)).paid_at is not None
    await flush_outbox(services)
    receipts = [s.message for s in fakes.sms.sent_to(JUMA) if "tumepokea" in s.message]
    assert receipts == [
        f"OmniRoute: tumepokea KES 2,522.00 kwa oda {order.reference}. "
        f"Risiti {second.receipt}. Asante!"
    ]
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert not any("tena" in label for label in orders.labels)
    assert fakes.daraja.reversals == []


async def test_a_late_success_of_the_expired_payment_is_refunded_not_kept(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The first prompt times out (expired after a day), Juma pays again, then the first
    payment's success arrives after all: the order is charged twice for a moment, and the
    later-created payment is given back by an M-Pesa reversal, once."""
    juma = UssdPhone(gateway, JUMA)
    order = await checkout_by_mpesa(juma, services)
    clock.advance(25 * 3600)
    await payments(services).requery()  # Daraja: still waiting; a day has passed: expired
    [expired] = await payments(services).for_order(order.reference)
    assert (expired.status, expired.failure_reason) == (IntentStatus.CANCELLED, "expired")

    await juma.dial()
    await juma.choose("Oda zangu")
    await juma.choose("tena")
    first, second = fakes.daraja.pushes
    target, body = fakes.daraja.pay(second)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    target, body = fakes.daraja.pay(first)  # late, and twice
    for _ in range(2):
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)

    [reversal] = fakes.daraja.reversals
    assert reversal.body["TransactionID"] == second.receipt  # the later-created payment
    target, body = fakes.daraja.reversal_result(reversal)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    intents = await payments(services).for_order(order.reference)
    refunds = [i for i in intents if i.direction is Direction.REFUND]
    assert [(r.status, r.amount) for r in refunds] == [(IntentStatus.SUCCEEDED, order.total)]
    assert len(await events(services, "PaymentSucceeded")) == 3  # two payments, one refund
    assert services.money is not None
    held = await services.money.ledger.account("rail:mpesa:KES")
    assert held.balance.amount == 2522  # the order's money, once


async def test_an_order_asked_for_by_its_reference_offers_to_pay_it_again_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma cancelled his M-Pesa prompt and texted "HALI <reference>", as the confirmation
    says: the order's own screen said where it was and nothing more, so he could not pay it
    from there. It now offers Pay again, which asks M-Pesa once more, once."""
    await services.delivery.stop()  # the test flushes the SMS
    order = await checkout_by_mpesa(UssdPhone(gateway, JUMA), services)
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    juma = SmsPhone(gateway, services, fakes.sms, JUMA, network_code="63902")
    await juma.receive()  # the order's SMS, and that its payment did not go through

    shown = await juma.text(f"HALI {order.reference}")
    assert shown.endswith(f"\n1. Lipa {order.reference} tena\n0. Rudi"), shown
    again = await juma.text("1")

    assert again.startswith(f"Oda {order.reference}: weka PIN yako ya M-Pesa"), again
    _first, second = fakes.daraja.pushes
    assert second.body["AccountReference"] == order.reference
    intents = await payments(services).for_order(order.reference)
    assert [i.idempotency_key for i in intents] == [
        f"order:{order.reference}",
        f"order:{order.reference}:again:1",
    ]
    shown = await juma.text(f"HALI {order.reference}")  # the new prompt is open: not offered
    assert shown.endswith("Jumla KES 2,521.26, kulipa kwa M-Pesa.\n0. Rudi"), shown


async def test_pay_again_pays_from_his_credit_what_it_covers_and_asks_mpesa_the_rest(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Juma's M-Pesa prompt for KES 2,521.26 was cancelled; KES 1,000 of his own came to his
    account since. Pay again asks M-Pesa only the rest, as checkout would, once."""
    assert services.money is not None
    juma = UssdPhone(gateway, JUMA)
    order = await checkout_by_mpesa(juma, services)
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await services.money.books.post_payment_received(
        Phone(JUMA), Money(Decimal(1000), "KES"), "mpesa", "KEPT-JUMA"
    )

    await juma.dial()
    await juma.choose("Oda zangu")
    again = await juma.choose("tena")
    assert again.body == (
        f"Oda {order.reference}: weka PIN yako ya M-Pesa kwenye ujumbe kulipa KES 1,521.26 "
        "(M-Pesa itaomba KES 1,522). Tutakutumia risiti kwa SMS."
    )
    assert (await juma.resend()).body == again.body
    _, second = fakes.daraja.pushes
    assert second.body["Amount"] == 1522
    target, body = fakes.daraja.pay(second)
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)
    assert (await services.orders.get(order.reference)).paid_at is not None
    kept = await services.money.books.account_credit(Phone(JUMA), "KES")
    assert kept == Money(Decimal("0.74"), "KES")  # what M-Pesa rounded up
    assert (await services.money.ledger.check()).balanced


async def test_pay_again_as_his_order_s_hold_is_taken_asks_mpesa_the_rest_not_his_credit(
    gateway: Client, services: Services, fakes: PaymentFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Juma has KES 1,000 of credit; his order's placing was handled late (the events behind)
    and its hold was taken just as Pay again read his account. Pay again counted that hold as
    credit kept for the order, told him it was paid from his credit (KES 0.00 left) and sent
    it on unpaid. It asks M-Pesa the rest, KES 1,521.26, as when nothing lags."""
    assert services.money is not None
    await services.relay.stop()  # his order's events wait: its hold is not taken yet
    juma = UssdPhone(gateway, JUMA)
    order = await checkout_by_mpesa(juma, services)
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await services.money.books.post_payment_received(
        Phone(JUMA), Money(Decimal(1000), "KES"), "mpesa", "KEPT-JUMA"
    )
    await juma.dial()
    await juma.choose("Oda zangu")
    ledger = services.money.ledger
    read = ledger.find_account

    async def then_held(code: str) -> object:
        monkeypatch.undo()  # once
        found = await read(code)
        await services.relay.drain()  # his order's placing handled now: its hold is taken
        return found

    monkeypatch.setattr(ledger, "find_account", then_held)
    again = await juma.choose("tena")

    assert again.body == (
        f"Oda {order.reference}: weka PIN yako ya M-Pesa kwenye ujumbe kulipa KES 1,521.26 "
        "(M-Pesa itaomba KES 1,522). Tutakutumia risiti kwa SMS."
    )
    assert (await services.orders.get(order.reference)).paid_at is None


async def test_pay_again_pays_from_his_credit_when_it_covers_the_order(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """KES 3,000 of his own came to his account after his prompt was cancelled: Pay again
    pays the order from it, with no new prompt, once."""
    assert services.money is not None
    juma = UssdPhone(gateway, JUMA)
    order = await checkout_by_mpesa(juma, services)
    target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await services.money.books.post_payment_received(
        Phone(JUMA), Money(Decimal(3000), "KES"), "mpesa", "KEPT-JUMA"
    )

    await juma.dial()
    await juma.choose("Oda zangu")
    again = await juma.choose("tena")
    assert again.body == (
        f"Oda {order.reference} imewekwa na kulipwa kwa salio lako: KES 2,521.26. Salio "
        "lililobaki: KES 478.74. Asante!"
    )
    assert (await juma.resend()).body == again.body
    assert len(fakes.daraja.pushes) == 1
    assert (await services.orders.get(order.reference)).paid_at is not None
    effects = SqlEffectLog(services.db, services.clock)
    rail = IntentRail(
        payments(services),
        PendingEngines(effects, services.clock),
        orders=SqlOrderDesk(services.orders, effects),
    )
    # the order's workflow, asking its rail at the end of the payment window, hears it paid
    assert (await rail.requery(order.reference)).status is PaymentStatus.PAID
    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert not any("tena" in label for label in orders.labels)
    await flush_outbox(services)
    kept = await services.money.books.account_credit(Phone(JUMA), "KES")
    assert kept == Money(Decimal("478.74"), "KES")
    assert (await services.money.ledger.check()).balanced
