"""An order's money end to end through the real bus: placed -> invoice and hold on the ledger,
delivered -> the debt is final and the VAT owed, paid by Paystack -> nothing owed; cancelled ->
released. Redelivered events change nothing. (Pay on delivery is paid in cash at the door:
tests/integration/gig/test_cash_at_the_door.py.)"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices.billing import OrderBilling
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderPlaced, OrderStatusChanged

NGOZI = Phone("+2348030000001")
TO_DELIVERED = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
]


def _order(key: str, method: PaymentMethod = PaymentMethod.ON_DELIVERY) -> PlaceOrder:
    return PlaceOrder(NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 3),), method, key)


async def test_an_order_is_invoiced_held_posted_and_paid(services: Services) -> None:
    money = services.money
    assert money is not None
    order = await services.orders.place(_order("money-1", PaymentMethod.PAYSTACK))
    await services.relay.drain()
    invoice = await money.invoices.for_order(order.reference)
    assert invoice is not None
    assert invoice.number == "NG-2026-000001"
    assert invoice.total == order.total
    receivable = await money.ledger.account("customer:+2348030000001:receivable:NGN")
    assert receivable.balance == Money(Decimal(0), "NGN")  # held, not yet owed
    assert receivable.available == order.total

    for status in TO_DELIVERED:
        await services.orders.advance(order.reference, status)
    await services.relay.drain()
    receivable = await money.ledger.account(receivable.code)
    assert receivable.balance == order.total
    assert (await money.ledger.account("vat:NGN")).balance == order.tax

    await money.books.post_payment_received(NGOZI, order.total, "paystack", "T7H2XYZ")
    await money.books.post_payment_received(NGOZI, order.total, "paystack", "T7H2XYZ")
    assert (await money.ledger.account(receivable.code)).balance.amount == 0
    report = await money.ledger.check()
    assert report.balanced


async def test_a_cancelled_order_releases_its_hold(services: Services) -> None:
    money = services.money
    assert money is not None
    order = await services.orders.place(_order("money-2"))
    await services.relay.drain()
    await services.orders.advance(order.reference, OrderStatus.CANCELLED)
    await services.relay.drain()
    receivable = await money.ledger.account("customer:+2348030000001:receivable:NGN")
    assert receivable.available.amount == 0
    assert receivable.balance.amount == 0
    assert (await money.ledger.check()).balanced


async def test_a_cancellation_handled_before_the_placement_still_releases_the_hold(
    services: Services,
) -> None:
    """Topics are not ordered against each other: the order's cancellation may reach billing
    before its placement. The hold the late placement takes is released all the same, so a
    cancelled order leaves nothing pending against the customer."""
    money = services.money
    assert money is not None
    order = await services.orders.place(_order("money-3"))
    await services.orders.advance(order.reference, OrderStatus.CANCELLED)
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    envelopes = [EventEnvelope.model_validate(r.envelope) for r in rows]
    placed = next(e for e in envelopes if e.topic == OrderPlaced.topic)
    cancelled = next(e for e in envelopes if e.topic == OrderStatusChanged.topic)
    billing = OrderBilling(money.invoices, money.books, services.orders, money.credit)

    await billing.on_status_changed(cancelled)
    await billing.on_placed(placed)
    await billing.on_placed(placed)  # and redelivered

    receivable = await money.ledger.account("customer:+2348030000001:receivable:NGN")
    assert receivable.available.amount == 0
    assert receivable.balance.amount == 0
    assert (await money.ledger.check()).balanced


async def test_a_paid_order_returned_after_delivery_reverses_its_sale_once(
    services: Services,
) -> None:
    """Paid by M-Pesa, delivered, then all brought back: the VAT posted on delivery stayed owed
    to the tax office, and the sale stayed booked, for goods no longer sold (a credit order's
    were reversed). Both are reversed once, however often the return's event comes: what she
    paid is owed back to her (the refund pays it), with the ledger balanced."""
    money = services.money
    assert money is not None
    order = await services.orders.place(
        PlaceOrder(
            NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.MPESA, "ret-1"
        )
    )
    await services.relay.drain()
    await money.books.post_payment_received(NGOZI, order.total, "mpesa", "QKRET1")
    for status in TO_DELIVERED:
        await services.orders.advance(order.reference, status)
    await services.relay.drain()
    assert (await money.ledger.account("vat:NGN")).balance == order.tax

    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    await services.relay.drain()
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    returned = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic == OrderStatusChanged.topic and e.data["status"] == "returned"
    ]
    billing = OrderBilling(money.invoices, money.books, services.orders, money.credit)
    await billing.on_status_changed(returned[0])  # redelivered

    assert (await money.ledger.account("vat:NGN")).balance.amount == 0
    assert (await money.ledger.account("sales:NGN")).balance.amount == 0
    receivable = await money.ledger.account(f"customer:{NGOZI.e164}:receivable:NGN")
    assert receivable.balance == -order.total
    assert (await money.ledger.check()).balanced
