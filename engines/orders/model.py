"""Carts and orders: what a customer is buying, and what they bought and where it stands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from core.money import Money
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


class OrderStatus(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    PICKING = "picking"
    PACKED = "packed"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PICKING, OrderStatus.CANCELLED}),
    OrderStatus.PICKING: frozenset({OrderStatus.PACKED, OrderStatus.CANCELLED}),
    OrderStatus.PACKED: frozenset({OrderStatus.DISPATCHED, OrderStatus.CANCELLED}),
    OrderStatus.DISPATCHED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class PaymentMethod(StrEnum):
    ON_DELIVERY = "ON_DELIVERY"
    # Paid through engines.payments before delivery (names as GraphQL's PaymentMethod).
    MPESA = "MPESA"
    MOMO = "MOMO"
    BANK_TRANSFER = "BANK_TRANSFER"
    PAYSTACK = "PAYSTACK"


@dataclass(frozen=True, slots=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Cart:
    """Belongs to the customer (the phone), not to a channel session, so it survives a drop."""

    customer: Phone
    region: RegionCode
    lines: tuple[CartLine, ...] = ()

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
        return replace(self, lines=())


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Money
    discount: Money

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity - self.discount


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

    def advance(self, target: OrderStatus) -> Order:
        if target not in _NEXT[self.status]:
            raise InvalidTransitionError(self.status, target)
        return replace(self, status=target)


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place the customer's cart (or the given lines) as an order, once per idempotency key."""

    customer: Phone
    region: RegionCode
    lines: tuple[CartLine, ...]
    payment_method: PaymentMethod
    idempotency_key: str
    clear_cart: bool = True
