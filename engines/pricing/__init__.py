"""Pricing: price lists per region and segment, contracts, tiers, promotions, vouchers, delivery
zones, VAT, price locks and the one quote function."""

from engines.pricing.explain import explain_line, explain_quote
from engines.pricing.locks import PriceLock, line_doc, quote_from_doc, quote_to_doc
from engines.pricing.model import (
    ContractPrice,
    CustomerTerms,
    DeliveryZone,
    EmptyCartError,
    InvalidQuantityError,
    InvalidVoucherError,
    NoPriceError,
    PriceEntry,
    PriceLockError,
    PriceLockExpiredError,
    PriceLockMismatchError,
    PriceSource,
    PriceTier,
    PricingError,
    Promotion,
    PromotionKind,
    PromotionUsage,
    QuoteItem,
    TaxClass,
    UnknownPriceLockError,
    VoucherProblem,
)
from engines.pricing.quote import AppliedPromotion, Quote, QuoteLine, quote
from engines.pricing.repository import PromotionExhaustedError
from engines.pricing.service import PriceBook, PricingService

__all__ = [
    "AppliedPromotion",
    "ContractPrice",
    "CustomerTerms",
    "DeliveryZone",
    "EmptyCartError",
    "InvalidQuantityError",
    "InvalidVoucherError",
    "NoPriceError",
    "PriceBook",
    "PriceEntry",
    "PriceLock",
    "PriceLockError",
    "PriceLockExpiredError",
    "PriceLockMismatchError",
    "PriceSource",
    "PriceTier",
    "PricingError",
    "PricingService",
    "Promotion",
    "PromotionExhaustedError",
    "PromotionKind",
    "PromotionUsage",
    "Quote",
    "QuoteItem",
    "QuoteLine",
    "TaxClass",
    "UnknownPriceLockError",
    "VoucherProblem",
    "explain_line",
    "explain_quote",
    "line_doc",
    "quote",
    "quote_from_doc",
    "quote_to_doc",
]
