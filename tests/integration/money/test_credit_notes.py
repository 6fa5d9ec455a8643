"""An invoice is never edited: cancellations and short deliveries are credited by credit notes,
numbered in their own series per country, referencing the invoice, each issued exactly once."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices import CreditReason, InvoiceService
from engines.notifications import DeliveryStatus
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder, RestPolicy
from tests.support.credit import credit_history

NGOZI = Phone("+2348030000001")
TO_DISPATCHED = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
]
_keys = itertools.count(1)


def _money(services: Services) -> InvoiceService:
    assert services.money is not None
    return services.money.invoices


async def _placed(services: Services, *lines: tuple[str, int]) -> str:
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            tuple(CartLine(sku, qty) for sku, qty in lines),
            PaymentMethod.ON_DELIVERY,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    return order.reference


async def test_a_cancelled_order_gets_one_credit_note_for_its_whole_invoice(
    services: Services,
) -> None:
    invoices = _money(services)
    first = await _placed(services, ("NDL-INDO-CHK", 3))
    second = await _placed(services, ("NDL-INDO-CHK", 1))
    invoice = await invoices.for_order(first)
    assert invoice is not None
    await services.orders.advance(first, OrderStatus.CANCELLED)
    await services.relay.drain()
    (note,) = await invoices.credit_notes(first)
    assert note.number == "NG-CN-2026-000001"  # its own series, beside NG-2026-00000n
    assert note.invoice_number == invoice.number
    assert note.reason is CreditReason.CANCELLED
    assert (note.subtotal, note.discount, note.tax, note.total) == (
        invoice.subtotal,
        invoice.discount,
        invoice.tax,
        invoice.total,
    )
    assert note.lines == invoice.lines
    assert [(v.rate, v.tax) for v in note.vat] == [(Decimal("0.075"), invoice.tax)]
    # the event again, and racing twins: still the one credit note, and no number lost
    again = await asyncio.gather(
        *(invoices.credit_cancelled(first, services.clock.now()) for _ in range(4))
    )
    assert {n.number for n in again if n is not None} == {note.number}
    await services.orders.advance(second, OrderStatus.CANCELLED)
    await services.relay.drain()
    (next_note,) = await invoices.credit_notes(second)
    assert next_note.number == "NG-CN-2026-000002"
    assert await invoices.numbers("NG-2026") == ["NG-2026-000001", "NG-2026-000002"]


async def test_a_partial_delivery_credits_exactly_what_did_not_arrive(services: Services) -> None:
    invoices = _money(services)
    reference = await _placed(services, ("NDL-INDO-CHK", 4), ("DRK-COLA-35", 12))
    invoice = await invoices.for_order(reference)
    assert invoice is not None
    for status in TO_DISPATCHED:
        await services.orders.advance(reference, status)
    delivered = await services.orders.deliver(reference, {"NDL-INDO-CHK": 1})
    await services.relay.drain()
    await services.relay.drain()
    (note,) = await invoices.credit_notes(reference)
    assert note.reason is CreditReason.UNDELIVERED
    assert note.invoice_number == invoice.number
    assert [(li.sku, li.quantity) for li in note.lines] == [("NDL-INDO-CHK", 3)]
    # invoice less credit note is what the delivered order owes, to the cent
    assert invoice.total - note.total == delivered.total
    assert invoice.tax - note.tax == delivered.tax
    assert sum((v.tax for v in note.vat), Money.zero("NGN")) == note.tax
    assert note.total.amount > 0


async def test_a_full_delivery_credits_nothing(services: Services) -> None:
    invoices = _money(services)
    reference = await _placed(services, ("NDL-INDO-CHK", 2))
    for status in [*TO_DISPATCHED, OrderStatus.DELIVERED]:
        await services.orders.advance(reference, status)
    await services.relay.drain()
    assert await invoices.credit_notes(reference) == []


async def test_a_back_order_is_invoiced_anew_and_the_original_invoice_credited(
    services: Services,
) -> None:
    invoices = _money(services)
    reference = await _placed(services, ("NDL-INDO-CHK", 5))
    for status in TO_DISPATCHED:
        await services.orders.advance(reference, status)
    await services.orders.deliver(reference, {"NDL-INDO-CHK": 2}, rest=RestPolicy.BACKORDER)
    await services.relay.drain()
    await services.relay.drain()
    original = await invoices.for_order(reference)
    (note,) = await invoices.credit_notes(reference)
    delivered = await services.orders.get(reference)
    assert original is not None
    assert [(li.sku, li.quantity) for li in note.lines] == [("NDL-INDO-CHK", 3)]
    assert original.total - note.total == delivered.total
    numbers = await invoices.numbers("NG-2026")
    assert len(numbers) == 2  # the back-order's own invoice


async def test_the_books_owe_what_arrived_after_a_partial_delivery(services: Services) -> None:
    assert services.money is not None
    ledger = services.money.ledger
    reference = await _placed(services, ("NDL-INDO-CHK", 4))
    for status in TO_DISPATCHED:
        await services.orders.advance(reference, status)
    delivered = await services.orders.deliver(reference, {"NDL-INDO-CHK": 1})
    await services.relay.drain()
    receivable = await ledger.account("customer:+2348030000001:receivable:NGN")
    # owed for what arrived, not the whole invoice (the rest is credited), and paid at the door
    # in whole naira: what she paid over the total (cash rounding) is debited back, at most 0.50
    over = max(delivered.total.in_cash().amount - delivered.total.amount, Decimal(0))
    assert receivable.balances.debits_posted == delivered.total.amount + over
    assert receivable.balance == Money.zero("NGN")
    assert receivable.available == Money.zero("NGN")  # and nothing of it is still held
    assert (await ledger.account("vat:NGN")).balance == delivered.tax
    assert (await ledger.check()).balanced


async def test_a_credit_order_delivered_in_part_owes_only_what_arrived(
    services: Services, clock: SteppedClock
) -> None:
    assert services.money is not None
    money = services.money
    await credit_history(services, clock, NGOZI.e164)
    await money.credit.decide(NGOZI)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 4),),
            PaymentMethod.CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    (credit,) = [
        c for c in await money.credit.credits(NGOZI) if c.order_reference == order.reference
    ]
    assert credit.outstanding == order.total
    for status in TO_DISPATCHED:
        await services.orders.advance(order.reference, status)
    delivered = await services.orders.deliver(order.reference, {"NDL-INDO-CHK": 3})
    await services.relay.drain()
    (credit,) = [
        c for c in await money.credit.credits(NGOZI) if c.order_reference == order.reference
    ]
    assert credit.amount == credit.outstanding == delivered.total
    line = await money.ledger.account("customer:+2348030000001:credit:NGN")
    assert line.balances.debits_posted - line.balances.credits_posted == delivered.total.amount
    assert line.balances.debits_pending == 0
    (note,) = await money.invoices.credit_notes(order.reference)
    assert note.total == order.total - delivered.total
    # repaying what arrived settles it
    await money.credit.repay(NGOZI, delivered.total, "mpesa", "QK-PART")
    assert await money.credit.available(NGOZI) == (await money.credit.terms(NGOZI)).limit  # type: ignore[union-attr]
    assert (await money.ledger.check()).balanced


async def test_a_credit_order_brought_back_undelivered_gives_its_credit_back(
    services: Services, clock: SteppedClock
) -> None:
    """Returned from dispatched (an escalated delivery an operator resolved as returned): like a
    cancelled credit order, nothing is owed, the line is whole again, the invoice credited."""
    assert services.money is not None
    money = services.money
    await credit_history(services, clock, NGOZI.e164)
    await money.credit.decide(NGOZI)
    limit = await money.credit.available(NGOZI)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 4),),
            PaymentMethod.CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    assert await money.credit.available(NGOZI) == limit - order.total
    for status in TO_DISPATCHED:
        await services.orders.advance(order.reference, status)

    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    await services.relay.drain()

    assert await money.credit.available(NGOZI) == limit
    (credit,) = [
        c for c in await money.credit.credits(NGOZI) if c.order_reference == order.reference
    ]
    assert credit.outstanding.amount == 0
    line = await money.ledger.account("customer:+2348030000001:credit:NGN")
    assert line.balances.debits_pending == line.balances.debits_posted == 0
    (note,) = await money.invoices.credit_notes(order.reference)
    assert (note.reason, note.total) == (CreditReason.CANCELLED, order.total)
    assert (await money.ledger.check()).balanced


async def test_a_credit_order_returned_after_delivery_releases_its_credit_once(
    services: Services, clock: SteppedClock
) -> None:
    """Delivered on credit, then all brought back: billing released only orders returned while
    dispatched, so Ngozi still owed the whole credit for goods she no longer had (reminders,
    then a late fee and a block). The credit is released once, the sale reversed on the
    ledger, and she is told by SMS what she now owes."""
    assert services.money is not None
    money = services.money
    await credit_history(services, clock, NGOZI.e164)
    await money.credit.decide(NGOZI)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 4),),
            PaymentMethod.CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    for status in [*TO_DISPATCHED, OrderStatus.DELIVERED]:
        await services.orders.advance(order.reference, status)
    await services.relay.drain()
    sales = (await money.ledger.account("sales:NGN")).balance
    vat = (await money.ledger.account("vat:NGN")).balance
    await money.credit.repay(NGOZI, Money(Decimal(1_000), "NGN"), "mpesa", "QK-PART-RET")

    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    await services.relay.drain()

    (credit,) = [
        c for c in await money.credit.credits(NGOZI) if c.order_reference == order.reference
    ]
    assert credit.outstanding.amount == 0
    assert await money.credit.returned(order.reference, order.tax) == credit  # again: no change
    # what she repaid of it stays on her line: NGN 1,000 more to spend
    terms = await money.credit.terms(NGOZI)
    assert terms is not None
    assert await money.credit.available(NGOZI) == terms.limit + Money(Decimal(1_000), "NGN")
    clock.advance(30 * 86_400)
    run = await money.credit.run_daily()
    assert (run.reminders, run.late_fees) == ([], [])
    assert not await money.credit.blocked(NGOZI)
    line = await money.ledger.account("customer:+2348030000001:credit:NGN")
    assert line.balance == Money(Decimal(-1_000), "NGN")
    assert (await money.ledger.account("sales:NGN")).balance == sales - order.total + order.tax
    assert (await money.ledger.account("vat:NGN")).balance == vat - order.tax
    assert (await money.ledger.check()).balanced
    # One text for the return: its credit note, with what she owes now (the credit line's
    # own text marks the release, and is not sent).
    texts = {
        d.dedupe_key.split(":")[0]: d for d in await services.notifications.for_recipient(NGOZI)
    }
    assert texts["credit-returned"].status is DeliveryStatus.SUPPRESSED
    (note,) = await money.invoices.credit_notes(order.reference)
    told = texts["credit-note-sms"]
    assert told.status is not DeliveryStatus.SUPPRESSED
    assert isinstance(told.payload["reply"], dict)
    assert told.payload["reply"]["text"] == (
        f"Credit note {note.number} for order {order.reference} (invoice {note.invoice_number}):"
        f" {note.total.format()} credited incl. VAT 7.5% {note.tax.format()}."
        " You now owe NGN 0.00 on credit."
    )


async def test_goods_returned_after_a_short_delivery_are_credited_for_the_rest_once(
    services: Services,
) -> None:
    """Delivered in part, then all brought back: the invoice still showed what arrived as
    sold and owed. What arrived is credited by one more note, so invoice less its notes is
    nothing, however often the return's event comes."""
    invoices = _money(services)
    reference = await _placed(services, ("NDL-INDO-CHK", 4), ("DRK-COLA-35", 12))
    invoice = await invoices.for_order(reference)
    assert invoice is not None
    for status in TO_DISPATCHED:
        await services.orders.advance(reference, status)
    delivered = await services.orders.deliver(reference, {"NDL-INDO-CHK": 1})
    await services.relay.drain()

    await services.orders.advance(reference, OrderStatus.RETURNED)
    await services.relay.drain()
    await services.relay.drain()

    short, back = await invoices.credit_notes(reference)
    assert (short.reason, back.reason) == (CreditReason.UNDELIVERED, CreditReason.RETURNED)
    assert back.invoice_number == invoice.number
    assert [(li.sku, li.quantity) for li in back.lines] == [
        ("NDL-INDO-CHK", 1),
        ("DRK-COLA-35", 12),
    ]
    assert (back.tax, back.total) == (delivered.tax, delivered.total)
    assert invoice.total - short.total - back.total == Money.zero("NGN")
    assert sum((v.tax for v in back.vat), Money.zero("NGN")) == back.tax
    again = await invoices.credit_returned(
        reference,
        {},
        (delivered.subtotal, delivered.discount, delivered.tax, delivered.total),
        services.clock.now(),
    )
    assert again == back
    assert len(await invoices.credit_notes(reference)) == 2


async def test_a_delivered_order_returned_is_credited_in_full_whatever_its_payment(
    services: Services, clock: SteppedClock
) -> None:
    assert services.money is not None
    invoices = _money(services)
    await credit_history(services, clock, NGOZI.e164)
    await services.money.credit.decide(NGOZI)
    for method in (PaymentMethod.ON_DELIVERY, PaymentMethod.CREDIT):
        order = await services.orders.place(
            PlaceOrder(
                NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 2),), method, f"cn-{next(_keys)}"
            )
        )
        await services.relay.drain()
        for status in [*TO_DISPATCHED, OrderStatus.DELIVERED, OrderStatus.RETURNED]:
            await services.orders.advance(order.reference, status)
        await services.relay.drain()
        (note,) = await invoices.credit_notes(order.reference)
        assert (note.reason, note.total, note.tax) == (
            CreditReason.RETURNED,
            order.total,
            order.tax,
        )


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_cash_for_goods_returned_repays_her_credit_debt_at_once_and_texts_her_by_day(
    services: Services, clock: SteppedClock
) -> None:
    """Ngozi paid NGN X cash at her door, gave the goods back at 05:00, and owed on credit:
    her cash, kept as her credit, waited for the next credit pass (not before 08:00), so for
    hours BAL showed both credit and debt. It repays her debt on the return, once; its text
    waits for 08:00 as the pass's would, and the pass then finds nothing to do."""
    assert services.money is not None
    money = services.money
    await credit_history(services, clock, NGOZI.e164)
    await money.credit.decide(NGOZI)
    owes = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 4),),
            PaymentMethod.CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    cash = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.ON_DELIVERY,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    for order in (owes, cash):
        for status in [*TO_DISPATCHED, OrderStatus.DELIVERED]:
            await services.orders.advance(order.reference, status)
    await services.relay.drain()
    lagos = ZoneInfo("Africa/Lagos")
    local = clock.now().astimezone(lagos)
    dawn = datetime.combine(local.date() + timedelta(days=1), time(5), tzinfo=lagos)
    clock.advance((dawn - clock.now()).total_seconds())

    await services.orders.advance(cash.reference, OrderStatus.RETURNED)
    await services.relay.drain()

    [credit] = [c for c in await money.credit.credits(NGOZI) if c.order_reference == owes.reference]
    assert credit.outstanding == owes.total - cash.total
    assert await money.books.account_credit(NGOZI, "NGN") == Money.zero("NGN")
    [told] = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-account_credit:")
    ]
    assert told.next_attempt_at == dawn.replace(hour=8)
    assert told.payload["reply"]["text"] == (  # type: ignore[index]
        f"OmniRoute: {cash.total.format()} of your credit paid your debt;"
        f" you now owe {credit.outstanding.format()}."
    )
    clock.advance(4 * 3_600)  # 09:00: the gateway's pass
    await money.credit.run_daily(not_before=time(8))
    [again] = [c for c in await money.credit.credits(NGOZI) if c.order_reference == owes.reference]
    assert again.outstanding == credit.outstanding
    assert [
        d.dedupe_key
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-account_credit:")
    ] == [told.dedupe_key]
    assert (await money.ledger.check()).balanced


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_a_short_delivery_paid_from_her_credit_repays_her_credit_debt_at_once(
    services: Services, clock: SteppedClock
) -> None:
    """Ngozi paid an order from the credit on her account and owed on credit; 2 of its 3
    cartons came at 05:00 (the rest released). What she paid for the third, which no rail gives
    back, waited for the next credit pass (not before 08:00) while BAL showed both credit and
    debt. It repays her debt at delivery, once; its text waits for 08:00 as the pass's would."""
    assert services.money is not None
    money = services.money
    await credit_history(services, clock, NGOZI.e164)
    await money.credit.decide(NGOZI)
    prepaid = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ACCOUNT_CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    await money.books.post_payment_received(NGOZI, prepaid.total, "paystack", "KEPT-SHORT")
    await money.books.order_paid_from_credit(prepaid.reference, NGOZI, prepaid.total)
    owes = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 4),),
            PaymentMethod.CREDIT,
            f"cn-{next(_keys)}",
        )
    )
    await services.relay.drain()
    for order in (owes, prepaid):
        for status in TO_DISPATCHED:
            await services.orders.advance(order.reference, status)
    await services.orders.advance(owes.reference, OrderStatus.DELIVERED)
    await services.relay.drain()
    lagos = ZoneInfo("Africa/Lagos")
    local = clock.now().astimezone(lagos)
    dawn = datetime.combine(local.date() + timedelta(days=1), time(5), tzinfo=lagos)
    clock.advance((dawn - clock.now()).total_seconds())

    arrived = await services.orders.deliver(prepaid.reference, {"NDL-INDO-CHK": 2})
    await services.relay.drain()

    rest = prepaid.total - arrived.total
    [credit] = [c for c in await money.credit.credits(NGOZI) if c.order_reference == owes.reference]
    assert credit.outstanding == owes.total - rest
    assert await money.books.account_credit(NGOZI, "NGN") == Money.zero("NGN")
    [told] = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-account_credit:")
    ]
    assert told.next_attempt_at == dawn.replace(hour=8)
    assert told.payload["reply"]["text"] == (  # type: ignore[index]
        f"OmniRoute: {rest.format()} of your credit paid your debt;"
        f" you now owe {credit.outstanding.format()}."
    )
    assert (await money.ledger.check()).balanced
