"""Orders: the customer's cart, idempotent placement with reservation, and the status lifecycle."""

from engines.orders.model import (
    MAX_LINE_QUANTITY,
    Cart,
    CartLine,
    InvalidTransitionError,
    Order,
    OrderError,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    UnknownOrderError,
)
from engines.orders.service import OrderService

__all__ = [
    "MAX_LINE_QUANTITY",
    "Cart",
    "CartLine",
    "InvalidTransitionError",
    "Order",
    "OrderError",
    "OrderLine",
    "OrderService",
    "OrderStatus",
    "PaymentMethod",
    "PlaceOrder",
    "UnknownOrderError",
]
