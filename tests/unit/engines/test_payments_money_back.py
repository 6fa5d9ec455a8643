"""Where an order's money is once the order is cancelled or returned, for the money no refund
intent tells of: cash taken at the door, transfers short of the order."""

from __future__ import annotations

from dataclasses import replace

from engines.orders import OrderStatus, PaymentMethod
from engines.payments import IntentStatus, Method, MoneyBack, money_back
from engines.payments.model import IN_PARTS
from tests.unit.engines.test_orders_model import order
from tests.unit.engines.test_payments_model import NOW, intent


def test_cash_paid_at_the_door_of_an_order_returned_is_kept_as_credit_not_paid() -> None:
    returned = replace(
        order(OrderStatus.RETURNED), payment_method=PaymentMethod.ON_DELIVERY, paid_at=NOW
    )
    assert money_back(returned, []) is MoneyBack.KEPT


def test_transfers_short_of_an_order_cancelled_before_the_last_are_kept_as_credit() -> None:
    cancelled = replace(order(OrderStatus.CANCELLED), payment_method=PaymentMethod.BANK_TRANSFER)
    asked = replace(intent(IntentStatus.CANCELLED), method=Method.BANK_TRANSFER)
    sent = replace(asked, details={IN_PARTS: "20000"})

    assert money_back(cancelled, [sent]) is MoneyBack.KEPT
    assert money_back(cancelled, [asked]) is None  # nothing came: nothing to say
