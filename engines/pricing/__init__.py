"""Pricing: regional price lists, quantity tiers, promotions, VAT and the one quote function."""

from engines.pricing.model import (
    EmptyCartError,
    InvalidQuantityError,
    NoPriceError,
    PriceEntry,
    PriceTier,
    PricingError,
    Promotion,
    QuoteItem,
)
from engines.pricing.quote import Quote, QuoteLine, quote
from engines.pricing.service import PricingService

__all__ = [
    "EmptyCartError",
    "InvalidQuantityError",
    "NoPriceError",
    "PriceEntry",
    "PriceTier",
    "PricingError",
    "PricingService",
    "Promotion",
    "Quote",
    "QuoteItem",
    "QuoteLine",
    "quote",
]
