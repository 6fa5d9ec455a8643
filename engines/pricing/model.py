"""Prices, quantity tiers and promotions of a regional price list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class PricingError(Exception):
    """Base of pricing's domain errors."""


class NoPriceError(PricingError):
    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


class EmptyCartError(PricingError):
    """A quote needs at least one line."""


class InvalidQuantityError(PricingError):
    def __init__(self, sku: str, quantity: int) -> None:
        super().__init__(f"{sku}: {quantity}")
        self.sku = sku
        self.quantity = quantity


@dataclass(frozen=True, slots=True)
class PriceTier:
    """From `min_quantity` units on, each unit costs `unit_price`."""

    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class PriceEntry:
    sku: str
    currency: str
    unit_price: Decimal
    tiers: tuple[PriceTier, ...] = ()

    def price_for(self, quantity: int) -> tuple[Decimal, PriceTier | None]:
        """The unit price at this quantity and the tier that gave it (None: the list price)."""
        best: PriceTier | None = None
        for tier in self.tiers:
            if quantity >= tier.min_quantity and (
                best is None or tier.min_quantity > best.min_quantity
            ):
                best = tier
        return (best.unit_price, best) if best else (self.unit_price, None)


@dataclass(frozen=True, slots=True)
class Promotion:
    """Percentage off a product or a whole category, from a minimum quantity, for a time."""

    id: str
    names: Mapping[str, str]
    percent_off: Decimal
    starts_at: datetime
    ends_at: datetime
    sku: str | None = None
    category_id: str | None = None
    min_quantity: int = 1

    def __post_init__(self) -> None:
        if not Decimal(0) < self.percent_off <= Decimal(100):
            raise ValueError("percent_off must be in (0, 100]")
        if (self.sku is None) == (self.category_id is None):
            raise ValueError("a promotion targets either one sku or one category")

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]

    def applies_to(self, sku: str, category_id: str, quantity: int, now: datetime) -> bool:
        target = self.sku == sku if self.sku is not None else self.category_id == category_id
        return target and quantity >= self.min_quantity and self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class QuoteItem:
    """What pricing needs to know of a cart line."""

    sku: str
    name: str
    category_id: str
    quantity: int
