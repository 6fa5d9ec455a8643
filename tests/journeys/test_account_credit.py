"""A retailer's money kept as credit on her account (an overpaid transfer, a refund a rail could
not make, the cash she paid at the door for goods that came back): Balance shows it, in her
language, on USSD and on SMS's BAL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.i18n import Translator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.model import cancel_reason
from engines.ledger import TransferRefusedError
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderStatusChanged
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone, flush_outbox

NGOZI = "+2348030000001"
JUMA = "+254711000001"

Client = TestClient[Any, Any]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    """Deliveries are flushed by the test, not by the background worker."""
    await services.delivery.stop()
    return client


async def kept_as_credit(services: Services, phone: str, amount: str, currency: str) -> None:
    """Money that paid no order, held at the rail and owed back to her (as an unmatched
    transfer into her account is posted)."""
    assert services.money is not None
    await services.money.books.post_payment_received(
        Phone(phone), Money(Decimal(amount), currency), "mpesa", f"KEPT-{phone}"
    )


async def test_bal_by_sms_shows_the_credit_on_her_account_in_swahili(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await kept_as_credit(services, JUMA, "1200", "KES")
    juma = SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")

    balance = await juma.text("BAL")

    assert balance.startswith("Salio kwenye akaunti yako: KES 1,200.00\n"), balance


async def test_bal_by_sms_shows_the_credit_beside_what_she_owes_on_delivery_in_english(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await kept_as_credit(services, NGOZI, "50000", "NGN")
    ussd = UssdPhone(gateway, NGOZI)
    await ussd.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ussd.choose(label)
    await ussd.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery", "Confirm"):
        await ussd.choose(label)
    ngozi = SmsPhone(gateway, services, fake_at, NGOZI)
    await ngozi.receive()  # the order confirmation

    balance = await ngozi.text("BAL")

    # the order on its way is paid at the door: what is hers is what is left beyond it
    assert balance == (
        "You owe NGN 26,993.00 for 1 order to pay on delivery.\n"
        "Credit on your account: NGN 23,006.75\n0. Back"
    )


async def test_bal_with_nothing_kept_still_says_she_owes_nothing(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    ngozi = SmsPhone(gateway, services, fake_at, NGOZI)

    assert await ngozi.text("BAL") == "You owe nothing. Thank you!\n0. Back"


async def to_payment(juma: UssdPhone) -> list[str]:
    await juma.dial()
    for label in ("Nunua", "Tambi na Pasta", "Indomie Chicken"):
        await juma.choose(label)
    await juma.press("3")
    await juma.choose("Lipia")
    return (await juma.choose("Chagua malipo")).labels


async def test_credit_on_her_account_pays_a_ussd_order_at_once_and_is_spent_once(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    assert services.money is not None
    await kept_as_credit(services, JUMA, "5000", "KES")
    juma = UssdPhone(gateway, JUMA, network_code="63902")

    labels = await to_payment(juma)
    await juma.choose("Lipa kwa salio lako")
    done = await juma.choose("Thibitisha")
    again = await juma._send()  # Africa's Talking sends the confirm again
    order = (await services.orders.recent(Phone(JUMA), limit=1))[0]
    sms = SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")
    confirmation = await sms.receive()

    assert "Lipa kwa salio lako (KES 5,000.00)" in labels
    assert done.body == (
        f"Oda {order.reference} imewekwa na kulipwa kwa salio lako: KES 2,521.26. "
        "Salio lililobaki: KES 2,478.74. Asante!"
    )
    assert again.body == done.body
    assert order.payment_method.value == "ACCOUNT_CREDIT"
    assert order.paid_at is not None
    assert confirmation == [
        f"OmniRoute: oda {order.reference} imewekwa, jumla KES 2,521.26, kulipwa kwa salio lako. "
        "Tuma HALI kwa taarifa."
    ]
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money(
        Decimal("2478.74"), "KES"
    )


async def test_credit_smaller_than_the_order_is_not_offered(
    gateway: Client, services: Services
) -> None:
    await kept_as_credit(services, JUMA, "2000", "KES")

    labels = await to_payment(UssdPhone(gateway, JUMA, network_code="63902"))

    assert not any("salio" in label.lower() for label in labels), labels


async def test_a_cancelled_order_paid_from_credit_gives_her_credit_back_once(
    gateway: Client, services: Services
) -> None:
    assert services.money is not None
    await kept_as_credit(services, JUMA, "5000", "KES")
    juma = UssdPhone(gateway, JUMA, network_code="63902")
    await to_payment(juma)
    await juma.choose("Lipa kwa salio lako")
    await juma.choose("Thibitisha")
    order = (await services.orders.recent(Phone(JUMA), limit=1))[0]
    await flush_outbox(services)

    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="customer")
    await flush_outbox(services)
    await flush_outbox(services)  # relayed again: nothing twice

    books = services.money.books
    assert await books.account_credit(Phone(JUMA), "KES") == Money(Decimal(5000), "KES")
    # back on her account, not sent to a rail
    assert await books.ledger.transfers(codes=["refund"]) == []
    assert (await books.ledger.check()).balanced


async def test_an_order_paid_from_credit_and_returned_puts_it_back_and_says_so(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    assert services.money is not None
    await kept_as_credit(services, JUMA, "5000", "KES")
    juma = UssdPhone(gateway, JUMA, network_code="63902")
    await to_payment(juma)
    await juma.choose("Lipa kwa salio lako")
    await juma.choose("Thibitisha")
    order = (await services.orders.recent(Phone(JUMA), limit=1))[0]
    sms = SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")
    await sms.receive()  # the order's confirmation
    for status in (
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.DISPATCHED,
        OrderStatus.DELIVERED,
    ):
        await services.orders.advance(order.reference, status)
    await flush_outbox(services)

    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    texts = await sms.receive()

    assert texts == [
        "Hati ya marejesho KE-CN-2026-000001 ya oda "
        f"{order.reference} (ankara KE-2026-000001): KES 2,521.26 imerejeshwa pamoja na VAT 16% "
        "KES 347.76. Ni salio lako sasa."
    ]
    assert await services.money.books.account_credit(Phone(JUMA), "KES") == Money(
        Decimal(5000), "KES"
    )


async def test_ngozi_pays_by_sms_from_her_credit_in_one_text(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    await kept_as_credit(services, NGOZI, "50000", "NGN")
    ngozi = SmsPhone(gateway, services, fake_at, NGOZI)
    for step in ("Hi", "1", "1", "1", "3", "3"):  # Shop, Noodles, Indomie, 3 of them, Checkout
        await ngozi.text(step)
    payment = await ngozi.text("1")  # Choose payment
    assert "1. Pay from your credit (NGN 50,000.00)" in payment, payment

    await ngozi.text("1")
    [placed] = await ngozi.send("1")  # Confirm

    [order] = await services.orders.recent(Phone(NGOZI))
    assert placed == (
        f"Order {order.reference} placed and paid from your credit: NGN 26,993.25. "
        "Credit left: NGN 23,006.75. Thank you! Reply STATUS for updates."
    )
    assert gsm7_length(placed) <= 160
    assert order.paid_at is not None


async def test_orders_billed_before_their_checkout_pays_still_spend_her_credit_once(
    gateway: Client, services: Services
) -> None:
    """The order's placed event may be billed before the checkout takes its payment from her
    credit (the relay is quick): two orders each worth most of her credit are both placed and
    billed, then both checkouts pay. One is paid; the other is refused, and her credit never
    goes below zero."""
    assert services.money is not None
    books = services.money.books
    await kept_as_credit(services, JUMA, "3000", "KES")
    placed = [
        await services.orders.place(
            PlaceOrder(
                Phone(JUMA),
                RegionCode.NAIROBI,
                (CartLine("NDL-INDO-CHK", 3),),
                PaymentMethod.ACCOUNT_CREDIT,
                f"billed-first-{n}",
            )
        )
        for n in range(2)
    ]
    await flush_outbox(services)  # billed

    answers = []
    for order in placed:
        try:
            await books.order_paid_from_credit(order.reference, order.customer, order.total)
            answers.append("paid")
        except TransferRefusedError:
            answers.append("refused")

    assert answers == ["paid", "refused"]
    left = await books.account_credit(Phone(JUMA), "KES")
    assert left == Money(Decimal("478.74"), "KES")


async def test_credit_spent_between_her_confirm_and_its_payment_cancels_it_naming_her_credit(
    gateway: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her credit covered the order when she confirmed; another order spent it before this one
    was paid from it. The order is cancelled, and the cancellation text her order's workflow
    sends names her account credit, not a credit line she does not have."""
    assert services.money is not None
    books = services.money.books
    await kept_as_credit(services, JUMA, "3000", "KES")
    changes: list[OrderStatusChanged] = []

    async def heard(envelope: EventEnvelope) -> None:
        changes.append(OrderStatusChanged.model_validate(envelope.data))

    services.bus.subscribe(OrderStatusChanged.topic, "test-cancellations", heard)
    place = services.orders.place

    async def placed_then_spent(command: PlaceOrder) -> Order:
        order = await place(command)
        other = await place(
            replace(command, idempotency_key="spent", price_lock_id=None, clear_cart=False)
        )
        await books.order_paid_from_credit(other.reference, other.customer, other.total)
        return order

    monkeypatch.setattr(services.orders, "place", placed_then_spent)
    juma = UssdPhone(gateway, JUMA, network_code="63902")
    await to_payment(juma)
    await juma.choose("Lipa kwa salio lako")
    await juma.choose("Thibitisha")
    await services.relay.drain()
    orders = await services.orders.recent(Phone(JUMA), limit=2)
    cancelled = [o for o in orders if o.status is OrderStatus.CANCELLED]
    [change] = [c for c in changes if c.status == OrderStatus.CANCELLED.value]
    why = cancel_reason(change.reason)
    translate = Translator.load()

    assert [o.reference for o in cancelled] == [change.reference]
    assert (
        translate("en", f"cancel_reason.{why.value}") == "your account credit no longer covers it"
    )
    assert translate("sw", f"cancel_reason.{why.value}") == "salio la akaunti yako halitoshi tena"


async def test_an_order_its_checkout_never_paid_from_her_credit_lapses_and_a_paid_one_stays(
    services: Services, clock: SteppedClock
) -> None:
    """With workflows off as on: the checkout placed the order and died before paying it from
    her credit, and nobody retried. It is not left placed and unpaid to be picked: it lapses when
    its payment window ends (stock back), as an unpaid prepaid order's hold does. One the
    checkout paid never lapses."""
    assert services.money is not None
    await kept_as_credit(services, JUMA, "3000", "KES")
    unpaid, paid = [
        await services.orders.place(
            PlaceOrder(
                Phone(JUMA),
                RegionCode.NAIROBI,
                (CartLine("NDL-INDO-CHK", 1),),
                PaymentMethod.ACCOUNT_CREDIT,
                f"lapses-{n}",
            )
        )
        for n in range(2)
    ]
    await services.money.books.order_paid_from_credit(paid.reference, paid.customer, paid.total)
    await services.orders.paid_from_credit(paid.reference)

    clock.advance(timedelta(minutes=14).total_seconds())
    assert await services.orders.expire_reservations() == []
    clock.advance(timedelta(minutes=2).total_seconds())
    assert await services.orders.expire_reservations() == [unpaid.reference]
    assert (await services.orders.get(unpaid.reference)).status is OrderStatus.CANCELLED
    assert (await services.orders.get(paid.reference)).status is OrderStatus.PLACED
