"""A customer who changed her number (WhatsApp's `user_changed_number`) is the same customer at
the new one: what was still on its way when she moved lands there too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from engines.ledger.tables import ledger_accounts
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.payments import CallbackNotice, CreatePayment, Method, Observation, ProviderStatus
from tests.support.providers.payments import PaymentFakes

NGOZI = Phone("+2348030000001")
NEW_NUMBER = Phone("+2348031234567")


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def ledger_codes(services: Services, phone: Phone) -> list[str]:
    prefix = f"customer:{phone.e164}:"
    async with services.db.transaction() as s:
        rows = await s.execute(
            select(ledger_accounts.c.code).where(ledger_accounts.c.code.startswith(prefix))
        )
        return sorted(r.code for r in rows)


async def test_an_order_and_its_payment_queued_before_she_moved_land_on_her_new_number_once(
    services: Services,
) -> None:
    """Ngozi's order and its Paystack payment were queued just before she changed her number
    and handled just after: her bill, payment and receipt went to the old number, where none
    of her other money is. All of it is at the new number now, once."""
    money = services.money
    assert money is not None
    order = await services.orders.place(
        PlaceOrder(
            NGOZI, RegionCode.LAGOS, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.PAYSTACK, "mv-1"
        )
    )
    assert services.payments is not None
    intent = await services.payments.create(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.PAYSTACK,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    for status in (ProviderStatus.PENDING, ProviderStatus.SUCCEEDED):  # charged, then paid
        seen = Observation(status, "T-MOVED-1", order.total, "T-MOVED-1")
        notice = CallbackNotice(f"evt-{status}", seen, intent_id=intent.id)
        assert await services.payments.apply_callback("paystack", notice)

    await services.change_number(NGOZI, NEW_NUMBER)
    await services.relay.drain()
    await services.relay.drain()

    invoice = await money.invoices.for_order(order.reference)
    assert invoice is not None
    assert invoice.customer == NEW_NUMBER
    assert await ledger_codes(services, NGOZI) == []
    [code] = await ledger_codes(services, NEW_NUMBER)
    receivable = await money.ledger.account(code)
    assert receivable.available.amount == 0  # held, and paid once
    assert receivable.balance == -order.total
    receipts = [
        d
        for d in await services.notifications.for_recipient(NEW_NUMBER)
        if "T-MOVED-1" in str(d.payload)
    ]
    assert len(receipts) == 1
    assert await services.notifications.for_recipient(NGOZI) == []
    assert (await money.ledger.check()).balanced
