"""Carts and orders: what a customer is buying, and what they bought and where it stands."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.money import Money, round_half_up
from core.phone import Phone
from core.region import RegionCode

MAX_LINE_QUANTITY = 9_999


class OrderError(Exception):
    """Base of the orders context's domain errors."""


class InvalidTransitionError(OrderError):
    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        super().__init__(f"{current} -> {target}")
        self.current = current
        self.target = target


class UnknownOrderError(OrderError):
    pass


class ReservationExpiredError(OrderError):
    """The order was not confirmed (paid) in time: its stock went back on the shelf."""

    def __init__(self, reference: str, expired_at: datetime) -> None:
        super().__init__(f"{reference}: reservation expired at {expired_at.isoformat()}")
        self.reference = reference
        self.expired_at = expired_at


class InvalidFulfilmentError(OrderError):
    """Delivered quantities that are not in the order (an unknown sku, more than ordered)."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"{reference}: {reason}")
        self.reference = reference
        self.reason = reason


class OrderStatus(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    PICKING = "picking"
    PACKED = "packed"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PICKING, OrderStatus.CANCELLED}),
    OrderStatus.PICKING: frozenset({OrderStatus.PACKED, OrderStatus.CANCELLED}),
    OrderStatus.PACKED: frozenset({OrderStatus.DISPATCHED, OrderStatus.CANCELLED}),
    OrderStatus.DISPATCHED: frozenset({OrderStatus.DELIVERED, OrderStatus.RETURNED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}

# Nothing follows these (delivered can still be returned): an order's story ends there.
FINAL_STATUSES = frozenset(status for status, after in _NEXT.items() if not after)

# While an order is in one of these, its lines hold reserved stock in the warehouse.
HOLDS_STOCK = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.CONFIRMED,
        OrderStatus.PICKING,
        OrderStatus.PACKED,
        OrderStatus.DISPATCHED,
    }
)


class RestPolicy(StrEnum):
    """What happens to what was not delivered: back on the shelf, or kept for a back-order."""

    RELEASE = "release"
    BACKORDER = "backorder"


class PaymentMethod(StrEnum):
    ON_DELIVERY = "ON_DELIVERY"
    # Paid through engines.payments before delivery (names as GraphQL's PaymentMethod).
    MPESA = "MPESA"
    MOMO = "MOMO"
    BANK_TRANSFER = "BANK_TRANSFER"
    PAYSTACK = "PAYSTACK"
    # On the retailer's credit line (engines.credit): authorised at checkout, repaid later.
    CREDIT = "CREDIT"
    # From the money kept as credit on her account (overpaid, or a refund that could not go
    # back): paid at checkout, at once, where it covers the whole total (ledger.Books).
    ACCOUNT_CREDIT = "ACCOUNT_CREDIT"


# Paid through engines.payments before delivery (not on delivery, not on credit).
PREPAID = frozenset(set(PaymentMethod) - {PaymentMethod.ON_DELIVERY, PaymentMethod.CREDIT})


# An order to be paid from the credit on her account is paid by its checkout a moment after it is
# placed; one its checkout never paid (it died, or found the credit spent) lapses then, as an
# unpaid prepaid order does at its payment window's end, and is never picked.
ACCOUNT_CREDIT_WINDOW = timedelta(minutes=15)
# Why an order whose unpaid hold lapsed is cancelled (`OrderStatusChanged.reason`, the stock
# released), in the words its workflow cancels it with: no payment arrived in time.
LAPSED_UNPAID = "payment_expired"


# The rails each country's checkout offers, in order, on every channel and over GraphQL (pay on
# delivery is offered everywhere, last, so its key never moves for people who always choose it;
# credit where the retailer's line covers the checkout). Each only while its rail is configured.
RAILS_BY_COUNTRY: dict[str, tuple[PaymentMethod, ...]] = {
    "KE": (PaymentMethod.MPESA,),
    "NG": (PaymentMethod.BANK_TRANSFER, PaymentMethod.PAYSTACK),
}


@dataclass(frozen=True, slots=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Cart:
    """Belongs to the customer (the phone), not to a channel session, so it survives a drop;
    so does the promo code entered at checkout (`voucher`), which the cart's quote carries."""

    customer: Phone
    region: RegionCode
    lines: tuple[CartLine, ...] = ()
    voucher: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantity_of(self, sku: str) -> int:
        return next((line.quantity for line in self.lines if line.sku == sku), 0)

    def with_quantity(self, sku: str, quantity: int) -> Cart:
        """Set a line's quantity (0 removes it); the line keeps its place in the cart."""
        if not 0 <= quantity <= MAX_LINE_QUANTITY:
            raise ValueError(f"quantity out of range: {quantity}")
        lines = [line for line in self.lines if line.sku != sku or quantity > 0]
        if quantity > 0:
            if any(line.sku == sku for line in lines):
                lines = [CartLine(sku, quantity) if line.sku == sku else line for line in lines]
            else:
                lines.append(CartLine(sku, quantity))
        return replace(self, lines=tuple(lines))

    def add(self, sku: str, quantity: int) -> Cart:
        return self.with_quantity(sku, self.quantity_of(sku) + quantity)

    def cleared(self) -> Cart:
        return replace(self, lines=(), voucher=None)

    def with_voucher(self, code: str | None) -> Cart:
        return replace(self, voucher=code or None)


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money
    discount: Money
    warehouse_id: str | None = None
    delivered_quantity: int | None = None  # set when the order is delivered (maybe partly)
    pricing: Mapping[str, Any] | None = None  # the quote line's explanation, kept for support

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity - self.discount

    @property
    def vat_applies(self) -> bool:
        return bool((self.pricing or {}).get("tax_class", "standard") == "standard")


@dataclass(frozen=True, slots=True)
class Order:
    id: uuid.UUID
    reference: str
    customer: Phone
    region: RegionCode
    lines: tuple[OrderLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    payment_method: PaymentMethod
    status: OrderStatus
    idempotency_key: str
    created_at: datetime
    paid_at: datetime | None = None  # set when a payment for it succeeds (engines.payments)
    delivery_fee: Money | None = None
    voucher: str | None = None
    price_lock_id: uuid.UUID | None = None
    reserved_until: datetime | None = None  # an unconfirmed hold lapses then
    back_order_of: uuid.UUID | None = None

    def advance(self, target: OrderStatus) -> Order:
        if target not in _NEXT[self.status]:
            raise InvalidTransitionError(self.status, target)
        return replace(self, status=target)

    def can_move_to(self, target: OrderStatus) -> bool:
        return target in _NEXT[self.status]

    @property
    def paid_by_original(self) -> bool:
        """A back-order of an order paid upfront: born paid, its money the original payment's
        (asked for no money again; given back from the original payment if it is not
        delivered). A pay-on-delivery back-order paid at its own door is not one."""
        return (
            self.back_order_of is not None
            and self.paid_at is not None
            and self.payment_method is not PaymentMethod.ON_DELIVERY
        )

    @property
    def holds_stock(self) -> bool:
        return self.status in HOLDS_STOCK

    def hold_expired(self, now: datetime) -> bool:
        return (
            self.status is OrderStatus.PLACED
            and self.reserved_until is not None
            and now >= self.reserved_until
        )


@dataclass(frozen=True, slots=True)
class Split:
    """A delivery split into what arrived and what did not, each priced on its own."""

    delivered: tuple[OrderLine, ...]
    rest: tuple[OrderLine, ...]
    delivered_amounts: tuple[Money, Money, Money, Money]  # subtotal, discount, tax, total
    rest_amounts: tuple[Money, Money, Money, Money]


def split_delivery(order: Order, delivered: Mapping[str, int], vat_rate: Decimal) -> Split:
    """Split the order's lines by what was delivered (a sku left out arrived in full).

    Each line's discount is shared in proportion to the quantities (the rest's share rounded
    half-up, the delivered part keeps the remainder, so the two add up to the original), and VAT
    is recomputed on each part; the delivery fee stays with the delivered part.
    """
    known = {line.sku for line in order.lines}
    unknown = set(delivered) - known
    if unknown:
        raise InvalidFulfilmentError(order.reference, f"not in the order: {sorted(unknown)}")
    got: list[OrderLine] = []
    rest: list[OrderLine] = []
    for line in order.lines:
        quantity = delivered.get(line.sku, line.quantity)
        if not 0 <= quantity <= line.quantity:
            raise InvalidFulfilmentError(
                order.reference, f"{line.sku}: delivered {quantity} of {line.quantity}"
            )
        missing = line.quantity - quantity
        cur = line.unit_price.currency
        rest_discount = Money(
            round_half_up(line.discount.amount * missing / line.quantity, cur), cur
        )
        got.append(
            replace(
                line,
                delivered_quantity=quantity,
                discount=line.discount - rest_discount,
            )
        )
        if missing:
            rest.append(
                replace(line, quantity=missing, discount=rest_discount, delivered_quantity=None)
            )
    fee = order.delivery_fee or Money.zero(order.total.currency)
    return Split(
        tuple(got),
        tuple(rest),
        _amounts(got, vat_rate, fee, delivered=True),
        _amounts(rest, vat_rate, Money.zero(order.total.currency), delivered=False),
    )


def _amounts(
    lines: list[OrderLine], vat_rate: Decimal, fee: Money, *, delivered: bool
) -> tuple[Money, Money, Money, Money]:
    cur = fee.currency
    subtotal = discount = taxable = Decimal(0)
    for line in lines:
        quantity = (line.delivered_quantity or 0) if delivered else line.quantity
        gross = line.unit_price.amount * quantity
        subtotal += gross
        discount += line.discount.amount
        if line.vat_applies:
            taxable += gross - line.discount.amount
    tax = round_half_up((taxable + fee.amount) * vat_rate, cur)
    return (
        Money(subtotal, cur),
        Money(discount, cur),
        Money(tax, cur),
        Money(subtotal - discount + fee.amount + tax, cur),
    )


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place the customer's cart (or the given lines) as an order, once per idempotency key."""

    customer: Phone
    region: RegionCode
    lines: tuple[CartLine, ...]
    payment_method: PaymentMethod
    idempotency_key: str
    clear_cart: bool = True
    voucher: str | None = None
    price_lock_id: uuid.UUID | str | None = None  # place at the locked quote's prices
    reservation_ttl: timedelta | None = None  # unconfirmed (unpaid) holds lapse after this
    # The customer is told by SMS as the order is placed (an SMS conversation's closing text
    # has its reference and total), so no separate SMS confirmation follows.
    customer_texted: bool = False
