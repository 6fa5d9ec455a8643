"""The chart of accounts: which account holds what, named so an operator can read the code.

Everything is from the platform's books. Customers' debts are assets (a receivable for
invoices, a limited credit line for buy-now-pay-later); what we owe distributors, drivers,
agents and the tax office are liabilities; provider balances (M-Pesa paybill, Paystack…)
are assets. Transfer ids are derived (uuid5) from what they record, so a retried webhook,
a redelivered event or a re-run job can only ever post the same transfer once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from core.phone import Phone
from engines.ledger.model import AccountFlags, AccountType

LEDGER_NAMESPACE = uuid.UUID("6f1d3c1e-0b6a-4f57-9a55-2a3c8e0f6d01")
_CAPPED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
_FLOORED = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS  # an asset that cannot go below zero


def transfer_id(*parts: str) -> uuid.UUID:
    """The id of the transfer that records `parts` (e.g. "payment", "mpesa", receipt)."""
    return uuid.uuid5(LEDGER_NAMESPACE, "|".join(parts))


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    type: AccountType
    currency: str
    flags: AccountFlags = AccountFlags.NONE
    limit: Decimal = Decimal(0)


def receivable(customer: Phone, currency: str) -> AccountSpec:
    """What a retailer owes on invoices paid on delivery or by a rail (may go negative: prepaid)."""
    return AccountSpec(
        f"customer:{customer.e164}:receivable:{currency}", AccountType.ASSET, currency
    )


def credit_line(customer: Phone, currency: str, limit: Decimal = Decimal(0)) -> AccountSpec:
    """What a retailer owes on credit: debits may exceed credits only up to the credit limit."""
    return AccountSpec(
        f"customer:{customer.e164}:credit:{currency}", AccountType.ASSET, currency, _CAPPED, limit
    )


def sales(currency: str) -> AccountSpec:
    return AccountSpec(f"sales:{currency}", AccountType.REVENUE, currency)


def vat_payable(currency: str) -> AccountSpec:
    return AccountSpec(f"vat:{currency}", AccountType.LIABILITY, currency)


def rail(name: str, currency: str) -> AccountSpec:
    """Money held for us at a provider (M-Pesa, MoMo, Paystack, a bank) until it is paid out."""
    return AccountSpec(f"rail:{name}:{currency}", AccountType.ASSET, currency)


def rail_fees(name: str, currency: str) -> AccountSpec:
    return AccountSpec(f"fees:{name}:{currency}", AccountType.EXPENSE, currency)


def distributor(name: str, currency: str) -> AccountSpec:
    """What the platform owes a distributor for goods sold on its behalf."""
    return AccountSpec(f"distributor:{name}:{currency}", AccountType.LIABILITY, currency)


def commission_income(currency: str) -> AccountSpec:
    return AccountSpec(f"commission_income:{currency}", AccountType.REVENUE, currency)


def late_fees(currency: str) -> AccountSpec:
    return AccountSpec(f"late_fees:{currency}", AccountType.REVENUE, currency)


def wallet(role: str, person: Phone, currency: str) -> AccountSpec:
    """What we owe a driver or an agent: it can never pay out more than it holds."""
    return AccountSpec(
        f"{role}:{person.e164}:wallet:{currency}", AccountType.LIABILITY, currency, _CAPPED
    )


def payouts_expense(role: str, currency: str) -> AccountSpec:
    """Delivery fees and agent commissions the platform pays."""
    return AccountSpec(f"{role}_earnings:{currency}", AccountType.EXPENSE, currency)


def agent_exposure(agent: Phone, currency: str, limit: Decimal = Decimal(0)) -> AccountSpec:
    """The credit an agent has extended and not yet collected: its own limit caps the total."""
    return AccountSpec(
        f"agent:{agent.e164}:exposure:{currency}", AccountType.ASSET, currency, _CAPPED, limit
    )


def exposure_control(currency: str) -> AccountSpec:
    """The other side of every agent's exposure (memorandum: sums to all agents' exposure)."""
    return AccountSpec(f"atc_exposure:{currency}", AccountType.LIABILITY, currency)


def agent_collections(agent: Phone, currency: str) -> AccountSpec:
    """Cash an agent has collected from retailers and still has to hand over."""
    return AccountSpec(
        f"agent:{agent.e164}:collections:{currency}", AccountType.ASSET, currency, _FLOORED
    )


def agent_receivable(agent: Phone, customer: Phone, currency: str) -> AccountSpec:
    """What a retailer owes on credit an agent granted (one account per agent and retailer)."""
    return AccountSpec(
        f"atc:{agent.e164}:{customer.e164}:{currency}", AccountType.ASSET, currency, _FLOORED
    )


def driver_cash(driver: Phone, currency: str) -> AccountSpec:
    """Cash a driver took at customers' doors (pay on delivery) and has not yet handed in at
    the depot: he can never hand in more than he holds."""
    return AccountSpec(
        f"driver:{driver.e164}:cash:{currency}", AccountType.ASSET, currency, _FLOORED
    )


def depot_cash(distributor: str, currency: str) -> AccountSpec:
    """Cash handed in at a distributor's depot: the drivers' takings at pay-on-delivery doors
    (and a delivery's cash no driver carried, taken at the depot itself)."""
    return AccountSpec(f"depot:{distributor}:cash:{currency}", AccountType.ASSET, currency)


def cash_rounding(currency: str) -> AccountSpec:
    """The platform's cash rounding: what a pay-on-delivery door's cash, rounded to the cash
    unit, fell short of the order (a debit) or went over it (a credit); at most half a unit
    each time, either way."""
    return AccountSpec(f"cash_rounding:{currency}", AccountType.EXPENSE, currency)
