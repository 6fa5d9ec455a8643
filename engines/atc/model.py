"""Agent trade credit (ATC): the stated rules.

An agent may extend credit only to retailers it onboarded, and in total only up to its own
limit (the exposure account's limit on the ledger). A retailer cannot repay more than it owes
the agent; an agent cannot hand over more than it collected. For every repayment it collects,
the agent earns COMMISSION_RATE (2 %) of the amount, rounded half-up to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.bank import BankAccount
from core.money import Money
from core.phone import Phone
from core.region import RegionCode

COMMISSION_RATE = Decimal("0.02")


class AtcError(Exception):
    """Base of the ATC context's errors."""


class NotOnboardedError(AtcError):
    """The retailer was not onboarded by this agent (or by anyone)."""


class AlreadyOnboardedError(AtcError):
    """The retailer belongs to another agent."""


class AgentLimitError(AtcError):
    """The grant would take the agent past its own credit limit."""


class OverpaymentError(AtcError):
    """More than the retailer owes, or more than the agent holds, was to be moved."""


class UnknownAgentError(AtcError):
    """No agent is registered under this phone."""


@dataclass(frozen=True, slots=True)
class Agent:
    phone: Phone
    name: str  # as on the agent's ID: a bank's account name must match it before a payout
    region: RegionCode
    bank: BankAccount | None = None


def commission_on(collected: Money) -> Money:
    return Money(collected.amount * COMMISSION_RATE, collected.currency)
