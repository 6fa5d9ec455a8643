"""The quote: one pure function, so every channel and every test gets the same total.

Rounding rule (stated once, tested): unit prices are whole minor units, so a line total is
exact; a promotion's discount is rounded half-up to the minor unit per line; VAT is charged
once on the whole discounted subtotal and rounded half-up to the minor unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.money import Money
from engines.pricing.model import (
    EmptyCartError,
    InvalidQuantityError,
    NoPriceError,
    PriceEntry,
    PriceTier,
    Promotion,
    QuoteItem,
)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    sku: str
    name: str
    quantity: int
    list_unit_price: Money
    unit_price: Money
    tier: PriceTier | None
    line_total: Money
    discount: Money
    promotion: Promotion | None

    @property
    def net(self) -> Money:
        return self.line_total - self.discount


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    lines: tuple[QuoteLine, ...]
    subtotal: Money
    discount: Money
    vat_rate: Decimal
    tax: Money
    total: Money

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def quote(
    items: Sequence[QuoteItem],
    prices: Mapping[str, PriceEntry],
    promotions: Sequence[Promotion],
    *,
    currency: str,
    vat_rate: Decimal,
    now: datetime,
) -> Quote:
    if not items:
        raise EmptyCartError
    lines: list[QuoteLine] = []
    for item in items:
        if item.quantity <= 0:
            raise InvalidQuantityError(item.sku, item.quantity)
        entry = prices.get(item.sku)
        if entry is None or entry.currency != currency:
            raise NoPriceError(item.sku)
        unit, tier = entry.price_for(item.quantity)
        line_total = Money(unit, currency) * item.quantity
        promotion, discount = _best_promotion(item, line_total, promotions, now)
        lines.append(
            QuoteLine(
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                list_unit_price=Money(entry.unit_price, currency),
                unit_price=Money(unit, currency),
                tier=tier,
                line_total=line_total,
                discount=discount,
                promotion=promotion,
            )
        )
    subtotal = sum((line.line_total for line in lines), Money.zero(currency))
    discount = sum((line.discount for line in lines), Money.zero(currency))
    taxable = subtotal - discount
    tax = Money(taxable.amount * vat_rate, currency)
    return Quote(currency, tuple(lines), subtotal, discount, vat_rate, tax, taxable + tax)


def _best_promotion(
    item: QuoteItem, line_total: Money, promotions: Sequence[Promotion], now: datetime
) -> tuple[Promotion | None, Money]:
    """One promotion per line: the one that saves the customer most (ties: lowest id)."""
    best: Promotion | None = None
    best_discount = Money.zero(line_total.currency)
    for promo in sorted(promotions, key=lambda p: p.id):
        if not promo.applies_to(item.sku, item.category_id, item.quantity, now):
            continue
        discount = Money(line_total.amount * promo.percent_off / 100, line_total.currency)
        if discount > best_discount:
            best, best_discount = promo, discount
    return best, best_discount
