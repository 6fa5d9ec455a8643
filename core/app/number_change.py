"""A customer who changed her phone number (WhatsApp's `user_changed_number`): everything kept
under the old number moves to the new one, so she is the same customer there.

Orders, cart, language, opt-out and delivery point, credit line and its repayments, invoices
and credit notes, payment intents and her virtual account, contract prices and terms,
promotion uses and price locks, deliveries on a driver's route, the agent that onboarded her
for trade credit, and her ledger accounts (receivable and credit line, and what she owes her
agent, whose codes name the number): all in one unit of work, so she is never half moved.
Every context keeps its customers by phone number; this is the one place that knows all of
those tables, as the composition root knows every context.

Nothing is merged: a new number that already has any of these (another customer's, or her own
from before) is left as it is, and so is the old one. A number with nothing under it has
nothing to move, which makes the change idempotent: the same webhook twice moves her once.
"""

from __future__ import annotations

from enum import StrEnum

import structlog
from sqlalchemy import Column, ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone
from engines.atc.tables import atc_retailers
from engines.credit.tables import credit_accounts, credit_orders, credit_repayments
from engines.customers.tables import customers
from engines.gig.tables import gig_task_stops
from engines.invoices.tables import credit_notes, invoices
from engines.ledger.tables import ledger_accounts
from engines.orders.tables import carts, orders
from engines.payments.tables import payment_intents, virtual_accounts
from engines.pricing.tables import (
    contract_prices,
    customer_terms,
    price_locks,
    promotion_order_uses,
    promotion_uses,
)

log = structlog.get_logger(__name__)

# Every column that names a customer by her phone number (E.164).
CUSTOMER_COLUMNS: tuple[Column[str], ...] = (
    customers.c.phone,
    orders.c.customer,
    carts.c.customer,
    credit_accounts.c.customer,
    credit_orders.c.customer,
    credit_repayments.c.customer,
    invoices.c.customer,
    credit_notes.c.customer,
    payment_intents.c.customer,
    virtual_accounts.c.customer,
    contract_prices.c.customer,
    customer_terms.c.customer,
    promotion_uses.c.customer,
    promotion_order_uses.c.customer,
    price_locks.c.customer,
    gig_task_stops.c.customer,
    atc_retailers.c.retailer,
)


class NumberChange(StrEnum):
    MOVED = "moved"
    NOTHING = "nothing"  # nothing under the old number: never a customer, or moved already
    REFUSED = "refused"  # the new number has history of its own, or is in another market


def _ledger_prefix(phone: Phone) -> str:
    """How her ledger accounts' codes begin (engines.ledger.chart: receivable, credit line)."""
    return f"customer:{phone.e164}:"


def _her_accounts(phone: Phone) -> ColumnElement[bool]:
    """Her ledger accounts, and perhaps a few more that `_renamed` tells apart: her receivable
    and credit line, and what she owes an agent (`atc:{agent}:{customer}:{currency}`)."""
    code = ledger_accounts.c.code
    return code.startswith(_ledger_prefix(phone), autoescape=True) | (
        code.startswith("atc:") & code.contains(f":{phone.e164}:", autoescape=True)
    )


def _renamed(code: str, old: Phone, new: Phone) -> str | None:
    """`code` under her new number, or None when it is not hers (an agent's own account)."""
    if code.startswith(_ledger_prefix(old)):
        return _ledger_prefix(new) + code.removeprefix(_ledger_prefix(old))
    kind, agent, customer, currency = [*code.split(":"), "", "", ""][:4]
    if kind == "atc" and customer == old.e164 and currency:
        return f"atc:{agent}:{new.e164}:{currency}"
    return None


async def change_number(db: Database, old: Phone, new: Phone) -> NumberChange:
    """Move everything kept under `old` to `new` (see the module's docstring)."""
    if old == new:
        return NumberChange.NOTHING
    try:
        same_market = region_for_phone(old) == region_for_phone(new)
    except UnsupportedRegionError:
        same_market = False
    async with db.transaction() as s:
        if not await _has_history(s, old):
            log.info("customer.number_unchanged", reason="nothing under the old number")
            return NumberChange.NOTHING
        if not same_market or await _has_history(s, new):
            # Two customers' orders and money are never merged: an operator decides.
            log.warning(
                "customer.number_change_refused",
                old=old.e164,
                new=new.e164,
                reason="another market" if not same_market else "the new number has history",
            )
            return NumberChange.REFUSED
        for column in CUSTOMER_COLUMNS:
            await s.execute(
                update(column.table).where(column == old.e164).values({column.key: new.e164})
            )
        accounts = await s.execute(
            select(ledger_accounts.c.id, ledger_accounts.c.code).where(_her_accounts(old))
        )
        for account_id, code in accounts.all():
            renamed = _renamed(code, old, new)
            if renamed is not None:
                await s.execute(
                    update(ledger_accounts)
                    .where(ledger_accounts.c.id == account_id)
                    .values(code=renamed)
                )
    log.info("customer.number_changed", old=old.e164, new=new.e164)
    return NumberChange.MOVED


async def _has_history(s: AsyncSession, phone: Phone) -> bool:
    """Whether anything at all is kept under `phone`: a row in any customer table, or a ledger
    account."""
    for column in CUSTOMER_COLUMNS:
        if await s.scalar(select(exists().where(column == phone.e164))):
            return True
    codes = await s.scalars(select(ledger_accounts.c.code).where(_her_accounts(phone)))
    return any(_renamed(code, phone, phone) is not None for code in codes)
