"""ATC use cases: onboard, grant, collect, settle, earn — each a set of ledger transfers that
commit together (one transaction), with ids derived from the order or the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bank import BankAccount
from core.clock import Clock
from core.db import Database
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.atc.model import (
    Agent,
    AgentLimitError,
    AlreadyOnboardedError,
    NotOnboardedError,
    OverpaymentError,
    UnknownAgentError,
    commission_on,
)
from engines.atc.tables import atc_agents, atc_retailers
from engines.ledger import (
    Books,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
    chart,
)


@dataclass(frozen=True, slots=True)
class AgentPosition:
    limit: Money
    exposure: Money  # credit extended and not yet collected
    collections: Money  # cash collected, not yet handed to the distributor
    earnings: Money  # commission in the agent's wallet


class AtcService:
    def __init__(self, db: Database, books: Books, clock: Clock) -> None:
        self._db = db
        self._books = books
        self._clock = clock

    async def register(self, agent: Agent) -> Agent:
        """Record who the agent is and where its commissions go (the first record stays;
        change the bank account with `set_bank_account`)."""
        name = " ".join(agent.name.split())
        if not 2 <= len(name) <= 80:
            raise ValueError("name: between 2 and 80 characters")
        found = await self.agent(agent.phone)
        if found is not None:
            return found
        try:
            async with self._db.transaction() as s:
                await s.execute(
                    atc_agents.insert().values(
                        phone=agent.phone.e164,
                        name=name,
                        region=agent.region.value,
                        bank_code=agent.bank.bank_code if agent.bank else None,
                        bank_account=agent.bank.number if agent.bank else None,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # registered concurrently: the first record stays
        registered = await self.agent(agent.phone)
        assert registered is not None
        return registered

    async def agent(self, phone: Phone) -> Agent | None:
        async with self._db.transaction() as s:
            row = (
                await s.execute(select(atc_agents).where(atc_agents.c.phone == phone.e164))
            ).first()
        return None if row is None else _agent(row)

    async def agents(self, region: RegionCode) -> list[Agent]:
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(atc_agents)
                .where(atc_agents.c.region == region.value)
                .order_by(atc_agents.c.created_at, atc_agents.c.phone)
            )
            return [_agent(r) for r in rows]

    async def set_bank_account(self, phone: Phone, bank: BankAccount) -> Agent:
        async with self._db.transaction() as s:
            done = await s.execute(
                update(atc_agents)
                .where(atc_agents.c.phone == phone.e164)
                .values(bank_code=bank.bank_code, bank_account=bank.number)
            )
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise UnknownAgentError(phone.e164)
        found = await self.agent(phone)
        assert found is not None
        return found

    async def set_limit(self, agent: Phone, limit: Money) -> None:
        exposure = await self._books.account(chart.agent_exposure(agent, limit.currency))
        await self._books.ledger.set_limit(exposure.code, limit.amount)

    async def onboard(self, agent: Phone, retailer: Phone) -> None:
        """The agent signed the retailer up: only it may extend ATC to them (idempotent)."""
        owner = await self.agent_of(retailer)
        if owner is None:
            try:
                async with self._db.transaction() as s:
                    await s.execute(
                        atc_retailers.insert().values(
                            retailer=retailer.e164, agent=agent.e164, onboarded_at=self._clock.now()
                        )
                    )
                return
            except IntegrityError:
                owner = await self.agent_of(retailer)
        if owner != agent:
            raise AlreadyOnboardedError(retailer.e164)

    async def agent_of(self, retailer: Phone) -> Phone | None:
        async with self._db.transaction() as s:
            found = await s.scalar(
                select(atc_retailers.c.agent).where(atc_retailers.c.retailer == retailer.e164)
            )
        return None if found is None else Phone(found)

    async def grant(
        self, agent: Phone, retailer: Phone, order_reference: str, amount: Money
    ) -> None:
        """The agent extends credit for an order: the retailer owes it, the agent's exposure
        grows — refused, with nothing posted, past the agent's limit."""
        if await self.agent_of(retailer) != agent:
            raise NotOnboardedError(retailer.e164)
        cur = amount.currency
        exposure = await self._books.account(chart.agent_exposure(agent, cur))
        control = await self._books.account(chart.exposure_control(cur))
        owed = await self._books.account(chart.agent_receivable(agent, retailer, cur))
        sales = await self._books.account(chart.sales(cur))

        async def work(s: AsyncSession) -> None:
            ledger = self._books.ledger
            await ledger.transfer_in(
                s,
                TransferRequest.posted(
                    chart.transfer_id("atc", order_reference, "exposure"),
                    exposure.id,
                    control.id,
                    amount,
                    code="atc_grant",
                    reference=order_reference,
                ),
            )
            await ledger.transfer_in(
                s,
                TransferRequest.posted(
                    chart.transfer_id("atc", order_reference, "sale"),
                    owed.id,
                    sales.id,
                    amount,
                    code="atc_grant",
                    reference=order_reference,
                ),
            )

        try:
            await self._db.retrying(work)
        except TransferRefusedError as refused:
            if refused.result is TransferResult.EXCEEDS_CREDITS:
                raise AgentLimitError(agent.e164) from refused
            raise

    async def collect(self, agent: Phone, retailer: Phone, amount: Money, receipt: str) -> Money:
        """The agent collected a repayment: the retailer owes less, the agent holds the cash,
        its exposure shrinks and it earns its commission. Returns the commission."""
        cur = amount.currency
        owed = await self._books.account(chart.agent_receivable(agent, retailer, cur))
        cash = await self._books.account(chart.agent_collections(agent, cur))
        exposure = await self._books.account(chart.agent_exposure(agent, cur))
        control = await self._books.account(chart.exposure_control(cur))
        wallet = await self._books.account(chart.wallet("agent", agent, cur))
        expense = await self._books.account(chart.payouts_expense("agent", cur))
        commission = commission_on(amount)
        ids = (agent.e164, receipt)

        async def work(s: AsyncSession) -> None:
            ledger = self._books.ledger
            for part, debit, credit, value, code in (
                ("collect", cash.id, owed.id, amount, "atc_collect"),
                ("release", control.id, exposure.id, amount, "atc_collect"),
                ("commission", expense.id, wallet.id, commission, "commission"),
            ):
                if value.amount <= 0:
                    continue
                await ledger.transfer_in(
                    s,
                    TransferRequest.posted(
                        chart.transfer_id("atc", *ids, part),
                        debit,
                        credit,
                        value,
                        code=code,
                        reference=receipt,
                    ),
                )

        try:
            await self._db.retrying(work)
        except TransferRefusedError as refused:
            if refused.result is TransferResult.EXCEEDS_DEBITS:
                raise OverpaymentError(f"{retailer.e164} owes less than {amount}") from refused
            raise
        return commission

    async def settle(self, agent: Phone, distributor: str, amount: Money, reference: str) -> None:
        """The agent hands collected cash to the distributor, which we then owe less."""
        cash = await self._books.account(chart.agent_collections(agent, amount.currency))
        owed = await self._books.account(chart.distributor(distributor, amount.currency))
        try:
            await self._books.ledger.transfer(
                TransferRequest.posted(
                    chart.transfer_id("atc", agent.e164, "settle", reference),
                    owed.id,
                    cash.id,
                    amount,
                    code="atc_settle",
                    reference=reference,
                )
            )
        except TransferRefusedError as refused:
            if refused.result is TransferResult.EXCEEDS_DEBITS:
                raise OverpaymentError(f"{agent.e164} holds less than {amount}") from refused
            raise

    async def position(self, agent: Phone, currency: str) -> AgentPosition:
        exposure = await self._books.account(chart.agent_exposure(agent, currency))
        cash = await self._books.account(chart.agent_collections(agent, currency))
        wallet = await self._books.account(chart.wallet("agent", agent, currency))
        return AgentPosition(
            Money(exposure.balance_limit, currency),
            exposure.balance,
            cash.balance,
            wallet.balance,
        )

    async def owed_by(self, agent: Phone, retailer: Phone, currency: str) -> Money:
        account = await self._books.account(chart.agent_receivable(agent, retailer, currency))
        return account.balance


def _agent(r: Any) -> Agent:
    bank = BankAccount(r.bank_code, r.bank_account) if r.bank_code and r.bank_account else None
    return Agent(Phone(r.phone), r.name, RegionCode(r.region), bank)


__all__ = ["AgentPosition", "AtcService"]
