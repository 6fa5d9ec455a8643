"""A customer who changed her number (WhatsApp's `user_changed_number`) is the same customer at
the new one: what was still on its way when she moved lands there too."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.ledger.tables import ledger_accounts
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.payments import CallbackNotice, CreatePayment, Method, Observation, ProviderStatus
from engines.pricing.tables import contract_prices
from tests.support.providers.payments import PaymentFakes

NGOZI = Phone("+2348030000001")
NEW_NUMBER = Phone("+2348031234567")
AGENT = Phone("+2348030000010")


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


async def test_her_contract_price_and_what_she_owes_her_agent_follow_her_to_her_new_number(
    services: Services, clock: SteppedClock
) -> None:
    """Ngozi has a contract price for Indomie (NGN 8,500 a carton) and owes her ATC agent NGN
    10,000. She wrote from her new number before WhatsApp's notice came: right after the move
    she was still shown the list price there, and her agent could neither see nor collect what
    she owed (it stayed under the old number, and she was nobody's retailer at the new one)."""
    money = services.money
    assert money is not None
    async with services.db.transaction() as s:
        await s.execute(
            contract_prices.insert().values(
                id="ngozi-indomie",
                region=RegionCode.LAGOS.value,
                customer=NGOZI.e164,
                sku="NDL-INDO-CHK",
                unit_price=Decimal(8500),
                valid_from=clock.now() - timedelta(days=1),
                valid_to=clock.now() + timedelta(days=30),
            )
        )
    list_price = await services.pricing.list_prices(
        RegionCode.LAGOS, ["NDL-INDO-CHK"], customer=NEW_NUMBER
    )
    assert list_price["NDL-INDO-CHK"] != Money(Decimal(8500), "NGN")
    await money.atc.set_limit(AGENT, Money(Decimal(50_000), "NGN"))
    await money.atc.onboard(AGENT, NGOZI)
    await money.atc.grant(AGENT, NGOZI, "ATC-MV1", Money(Decimal(10_000), "NGN"))

    await services.change_number(NGOZI, NEW_NUMBER)

    prices = await services.pricing.list_prices(
        RegionCode.LAGOS, ["NDL-INDO-CHK"], customer=NEW_NUMBER
    )
    assert prices["NDL-INDO-CHK"] == Money(Decimal(8500), "NGN")
    assert await money.atc.agent_of(NEW_NUMBER) == AGENT
    assert await money.atc.owed_by(AGENT, NEW_NUMBER, "NGN") == Money(Decimal(10_000), "NGN")
    await money.atc.collect(AGENT, NEW_NUMBER, Money(Decimal(10_000), "NGN"), "ATC-R1")
    assert await money.atc.owed_by(AGENT, NEW_NUMBER, "NGN") == Money.zero("NGN")
    assert await ledger_codes(services, NGOZI) == []
    assert (await money.ledger.check()).balanced
