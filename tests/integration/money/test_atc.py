"""Agent trade credit: an agent lends to its own retailers within its limit, collects, hands the
cash to the distributor and earns its commission — all of it balanced on the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from engines.atc import (
    AgentLimitError,
    AlreadyOnboardedError,
    AtcService,
    NotOnboardedError,
    OverpaymentError,
)
from engines.ledger import Books, LedgerService

AGENT = Phone("+2348030000010")
OTHER_AGENT = Phone("+2348030000011")
SHOP = Phone("+2348030000001")
SHOP_2 = Phone("+2348030000002")


def ngn(amount: str | int) -> Money:
    return Money(Decimal(amount), "NGN")


@pytest.fixture
async def atc(services: Services, books: Books, clock: SteppedClock) -> AtcService:
    service = AtcService(services.db, books, clock)
    await service.set_limit(AGENT, ngn(50_000))
    await service.onboard(AGENT, SHOP)
    await service.onboard(AGENT, SHOP_2)
    return service


async def test_an_agent_lends_only_to_its_own_retailers_within_its_limit(
    atc: AtcService, ledger: LedgerService
) -> None:
    await atc.onboard(AGENT, SHOP)  # again: fine
    with pytest.raises(AlreadyOnboardedError):
        await atc.onboard(OTHER_AGENT, SHOP)
    with pytest.raises(NotOnboardedError):
        await atc.grant(OTHER_AGENT, SHOP, "ORD001", ngn(1000))

    await atc.grant(AGENT, SHOP, "ORD001", ngn(30_000))
    await atc.grant(AGENT, SHOP, "ORD001", ngn(30_000))  # a retried grant
    with pytest.raises(AgentLimitError):
        await atc.grant(AGENT, SHOP_2, "ORD002", ngn(20_001))
    assert await atc.owed_by(AGENT, SHOP_2, "NGN") == ngn(0)  # nothing half-posted
    await atc.grant(AGENT, SHOP_2, "ORD003", ngn(20_000))
    position = await atc.position(AGENT, "NGN")
    assert position.exposure == ngn(50_000)
    assert position.limit == ngn(50_000)
    assert (await ledger.check()).balanced


async def test_collections_free_the_limit_earn_commission_and_settle_to_the_distributor(
    atc: AtcService, ledger: LedgerService
) -> None:
    await atc.grant(AGENT, SHOP, "ORD001", ngn(30_000))
    commission = await atc.collect(AGENT, SHOP, ngn(12_345), "CASH-1")
    assert commission == ngn("246.90")  # 2 %
    assert await atc.collect(AGENT, SHOP, ngn(12_345), "CASH-1") == commission  # once
    with pytest.raises(OverpaymentError):
        await atc.collect(AGENT, SHOP, ngn(20_000), "CASH-2")  # owes 17,655 only
    position = await atc.position(AGENT, "NGN")
    assert position.exposure == ngn(17_655)
    assert position.collections == ngn(12_345)
    assert position.earnings == ngn("246.90")
    assert await atc.owed_by(AGENT, SHOP, "NGN") == ngn(17_655)

    await atc.grant(AGENT, SHOP_2, "ORD004", ngn(32_345))  # the collected room is lendable
    with pytest.raises(OverpaymentError):
        await atc.settle(AGENT, "lagos-main", ngn(12_346), "HANDOVER-1")
    await atc.settle(AGENT, "lagos-main", ngn(12_345), "HANDOVER-1")
    await atc.settle(AGENT, "lagos-main", ngn(12_345), "HANDOVER-1")
    assert (await atc.position(AGENT, "NGN")).collections == ngn(0)
    assert (await ledger.account("distributor:lagos-main:NGN")).balance == ngn(-12_345)
    report = await ledger.check()
    assert report.balanced
    assert report.mismatches == []
