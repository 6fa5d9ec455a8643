"""`omniroute orders return REF` for an order paid from the credit on her account: the operator
is told the money went back there, not that nothing was paid upfront."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from tests.journeys.test_cli_orders_return import give_back, last_line, operator_env
from tests.journeys.test_returned_order_refunds import TO_DISPATCHED
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

__all__ = ["operator_env"]

JUMA = Phone("+254711000001")


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


@pytest.mark.usefixtures("operator_env")
async def test_a_returned_order_paid_from_her_credit_is_said_to_go_back_there(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert services.money is not None
    books = services.money.books
    await books.post_payment_received(JUMA, Money(Decimal(5000), "KES"), "mpesa", "KEPT-1")
    order = await services.orders.place(
        PlaceOrder(
            JUMA,
            RegionCode.NAIROBI,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ACCOUNT_CREDIT,
            "cli-kept",
        )
    )
    await books.order_paid_from_credit(order.reference, JUMA, order.total)
    await services.orders.paid_from_credit(order.reference)
    await flush_outbox(services)
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED]:
        await services.orders.advance(order.reference, status)
    await flush_outbox(services)

    assert await give_back(order.reference) == 0
    assert last_line(capsys.readouterr().out) == (
        f"order {order.reference} returned, its goods back on the shelves: "
        "KES 2,521.26 back on her account as credit (it was paid from there)"
    )
    await flush_outbox(services)
    assert await books.account_credit(JUMA, "KES") == Money(Decimal(5000), "KES")
