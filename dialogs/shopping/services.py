"""The engine services the shopping dialog calls (its ports, filled by the composition root)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from engines.catalogue import CatalogueService
from engines.credit import CreditService
from engines.customers import CustomerService
from engines.ledger import Books
from engines.orders import OrderService
from engines.payments import PaymentService
from engines.pricing import PricingService


@dataclass(frozen=True, slots=True)
class ShopServices:
    catalogue: CatalogueService
    pricing: PricingService
    orders: OrderService
    customers: CustomerService
    payments: PaymentService | None = None
    credit: CreditService | None = None
    # Her money kept as credit on her account is read from the books (None: not shown).
    books: Books | None = None
    # Where the order's fulfilment workflow says it is (a stage name), None when none answers.
    stage_of: Callable[[str], Awaitable[str | None]] | None = None
