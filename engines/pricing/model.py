"""Price lists, contracts, tiers, promotions, vouchers, delivery zones and tax classes.

Pure values: what a quote is computed from. Nothing here reads a database or a clock; the
service gathers these for one customer and `engines.pricing.quote` does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from core.money import minor_unit


def round_to(amount: Decimal, quantum: Decimal) -> Decimal:
    """Half away from zero to `quantum` (the currency's minor unit)."""
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


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


class VoucherProblem(StrEnum):
    """Why a promo code was refused; dialogs and GraphQL turn it into words or typed errors."""

    UNKNOWN = "unknown"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    USED_UP = "used_up"  # the customer's uses or the promotion's budget are spent
    NOT_ELIGIBLE = "not_eligible"  # another customer segment
    NOT_APPLICABLE = "not_applicable"  # nothing in the cart qualifies


class InvalidVoucherError(PricingError):
    def __init__(self, code: str, problem: VoucherProblem) -> None:
        super().__init__(f"{code}: {problem.value}")
        self.code = code
        self.problem = problem


class PriceLockError(PricingError):
    """Base of the price-lock errors."""


class UnknownPriceLockError(PriceLockError):
    def __init__(self, lock_id: str) -> None:
        super().__init__(lock_id)
        self.lock_id = lock_id


class PriceLockExpiredError(PriceLockError):
    """The lock's time is over: the customer must accept a fresh quote."""

    def __init__(self, lock_id: str, expired_at: datetime) -> None:
        super().__init__(f"price lock {lock_id} expired at {expired_at.isoformat()}")
        self.lock_id = lock_id
        self.expired_at = expired_at


class PriceLockUsedError(PriceLockError):
    """A lock gives its price to one order; another order needs a fresh quote."""

    def __init__(self, lock_id: str) -> None:
        super().__init__(f"price lock {lock_id} was already used for an order")
        self.lock_id = lock_id


class PriceLockMismatchError(PriceLockError):
    """The order's lines or customer are not the ones the lock was given for."""

    def __init__(self, lock_id: str) -> None:
        super().__init__(f"price lock {lock_id} was given for another cart or customer")
        self.lock_id = lock_id


class PriceSource(StrEnum):
    """Where a line's unit price came from, most specific last."""

    LIST = "list"  # the region's price list
    SEGMENT = "segment"  # the price list of the customer's segment (wholesale, key account...)
    CONTRACT = "contract"  # a price negotiated with this customer, valid for a period


class TaxClass(StrEnum):
    STANDARD = "standard"  # the country's VAT rate
    ZERO = "zero"  # taxable at 0 % (the supplier still reclaims input VAT)
    EXEMPT = "exempt"  # outside VAT altogether


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
    tax_class: TaxClass = TaxClass.STANDARD

    def __post_init__(self) -> None:
        # Unit prices are whole minor units (the quote's rounding rule): rounded once here,
        # when a price list is loaded, rather than on every quote.
        quantum = minor_unit(self.currency)
        object.__setattr__(self, "unit_price", round_to(self.unit_price, quantum))
        object.__setattr__(
            self,
            "tiers",
            tuple(PriceTier(t.min_quantity, round_to(t.unit_price, quantum)) for t in self.tiers),
        )

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
class ContractPrice:
    """A unit price negotiated with one customer; it replaces list and segment prices and tiers."""

    id: str
    customer: str
    sku: str
    unit_price: Decimal
    valid_from: datetime
    valid_to: datetime

    def valid_at(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_to


class PromotionKind(StrEnum):
    PERCENT = "percent"  # percent_off the line
    FIXED = "fixed"  # amount_off the line, once per qualifying line
    BUY_X_GET_Y = "buy_x_get_y"  # every buy_quantity + get_quantity units, get_quantity are free
    BUNDLE = "bundle"  # the set in `bundle` costs `bundle_price` together
    FREE_DELIVERY = "free_delivery"  # the delivery fee is waived


LINE_KINDS = frozenset({PromotionKind.PERCENT, PromotionKind.FIXED, PromotionKind.BUY_X_GET_Y})


@dataclass(frozen=True, slots=True)
class Promotion:
    """A discount with its schedule, audience, limits and place in the stacking order.

    Stacking: a line's promotions are taken by `priority` (highest first), then by the
    discount each would give alone (largest first), then by id. An `exclusive` promotion
    applies only to a line nothing else has discounted yet, and nothing applies after it;
    stackable promotions each take their share of what is left of the line, so a line never
    goes below zero. Free delivery works on the delivery fee and stacks with line promotions.
    """

    id: str
    names: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime
    kind: PromotionKind = PromotionKind.PERCENT
    percent_off: Decimal = Decimal(0)
    amount_off: Decimal = Decimal(0)
    buy_quantity: int = 0
    get_quantity: int = 0
    bundle: Mapping[str, int] = field(default_factory=dict)
    bundle_price: Decimal = Decimal(0)
    sku: str | None = None
    category_id: str | None = None
    min_quantity: int = 1
    min_order: Decimal = Decimal(0)  # free delivery: the discounted goods must reach this
    priority: int = 0
    exclusive: bool = True
    per_customer_limit: int | None = None  # orders per customer that may use it
    budget: Decimal | None = None  # total discount it may give, all customers together
    code: str | None = None  # a voucher: applies only when this promo code is entered
    segments: frozenset[str] = frozenset()  # empty: every customer
    fraction: Decimal = field(init=False, repr=False, compare=False)  # percent_off / 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", self.percent_off / 100)
        kind = self.kind
        if kind is PromotionKind.PERCENT and not Decimal(0) < self.percent_off <= Decimal(100):
            raise ValueError("percent_off must be in (0, 100]")
        if kind is PromotionKind.FIXED and self.amount_off <= 0:
            raise ValueError("amount_off must be positive")
        if kind is PromotionKind.BUY_X_GET_Y and (self.buy_quantity < 1 or self.get_quantity < 1):
            raise ValueError("buy_quantity and get_quantity must be at least 1")
        if kind in LINE_KINDS and (self.sku is None) == (self.category_id is None):
            raise ValueError("a promotion targets either one sku or one category")
        if kind is PromotionKind.BUNDLE and (
            not self.bundle or any(q < 1 for q in self.bundle.values()) or self.bundle_price < 0
        ):
            raise ValueError("a bundle needs skus with positive quantities and a price")
        if self.budget is not None and self.budget < 0:
            raise ValueError("budget must not be negative")
        if self.per_customer_limit is not None and self.per_customer_limit < 0:
            raise ValueError("per_customer_limit must not be negative")
        if self.code is not None:
            object.__setattr__(self, "code", normalise_code(self.code))

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]

    def live_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def targets(self, sku: str, category_id: str) -> bool:
        if self.kind is PromotionKind.BUNDLE:
            return sku in self.bundle
        if self.sku is not None:
            return self.sku == sku
        return self.category_id == category_id

    def applies_to(self, sku: str, category_id: str, quantity: int, now: datetime) -> bool:
        return (
            self.targets(sku, category_id) and quantity >= self.min_quantity and self.live_at(now)
        )


def normalise_code(code: str) -> str:
    """Promo codes are typed on keypads and in chats: case and surrounding spaces don't count."""
    return code.strip().upper()


@dataclass(frozen=True, slots=True)
class PromotionUsage:
    """How much of a promotion is spent: this customer's uses and everyone's discount so far."""

    customer_uses: int = 0
    budget_spent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class DeliveryZone:
    """Where a customer is delivered to, and what that costs (free from an order value)."""

    id: str
    names: Mapping[str, str]
    fee: Decimal
    free_from: Decimal | None = None

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]


@dataclass(frozen=True, slots=True)
class CustomerTerms:
    """What pricing knows of the customer: segment, delivery zone, contracts and promo usage."""

    customer: str | None = None
    segment: str | None = None
    zone: DeliveryZone | None = None
    contracts: Mapping[str, ContractPrice] = field(default_factory=dict)
    usage: Mapping[str, PromotionUsage] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QuoteItem:
    """What pricing needs to know of a cart line."""

    sku: str
    name: str
    category_id: str
    quantity: int
