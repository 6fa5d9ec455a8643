"""With workflows off (`OMNIROUTE_TEMPORAL=off`) no order workflow carries an order: the gateway
still tells a customer her order is cancelled, as the workflow would, once and in her
language."""

from __future__ import annotations

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from tests.support.providers.africastalking import FakeAfricasTalking, flush_outbox

JUMA = Phone("+254711000001")  # Nairobi: Swahili
NGOZI = Phone("+2348030000001")  # Lagos: English


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url, temporal="off")


async def place(
    services: Services, who: Phone, region: RegionCode, method: PaymentMethod, key: str
) -> Order:
    return await services.orders.place(
        PlaceOrder(who, region, (CartLine("NDL-INDO-CHK", 3),), method, key, clear_cart=False)
    )


def texts_to(fake_at: FakeAfricasTalking, who: Phone) -> list[str]:
    return [sms.message for sms in fake_at.sent_to(who.e164)]


async def test_a_cancelled_order_is_told_once_in_her_language_with_why(
    services: Services, fake_at: FakeAfricasTalking
) -> None:
    """Juma asked for his order to be cancelled (an app's `cancelOrder`), our team stopped
    Ngozi's (no reason given): each gets the text the order's workflow sends, once."""
    his = await place(services, JUMA, RegionCode.NAIROBI, PaymentMethod.ON_DELIVERY, "juma-1")
    hers = await place(services, NGOZI, RegionCode.LAGOS, PaymentMethod.ON_DELIVERY, "ngozi-1")
    await flush_outbox(services)
    fake_at.sent.clear()  # the order confirmations

    await services.orders.advance(his.reference, OrderStatus.CANCELLED, reason="customer")
    await services.orders.advance(hers.reference, OrderStatus.CANCELLED)
    for _ in range(2):
        await flush_outbox(services)

    assert texts_to(fake_at, JUMA) == [
        f"OmniRoute: oda {his.reference} imeghairiwa: kama ulivyoomba. Ulicholipia kitarejeshwa."
    ]
    assert texts_to(fake_at, NGOZI) == [
        f"OmniRoute: order {hers.reference} is cancelled: our team stopped it. "
        "Anything you paid for it is refunded."
    ]
