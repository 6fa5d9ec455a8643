"""Orders: the customer's cart, idempotent placement with reservation, and the status lifecycle."""

from engines.orders.model import (
    MAX_LINE_QUANTITY,
    RAILS_BY_COUNTRY,
    Cart,
    CartLine,
    InvalidFulfilmentError,
    InvalidTransitionError,
    Order,
    OrderError,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    ReservationExpiredError,
    RestPolicy,
    Split,
    UnknownOrderError,
    split_delivery,
)
from engines.orders.service import OrderService

__all__ = [
    "MAX_LINE_QUANTITY",
    "RAILS_BY_COUNTRY",
    "Cart",
    "CartLine",
    "InvalidFulfilmentError",
    "InvalidTransitionError",
    "Order",
    "OrderError",
    "OrderLine",
    "OrderService",
    "OrderStatus",
    "PaymentMethod",
    "PlaceOrder",
    "ReservationExpiredError",
    "RestPolicy",
    "Split",
    "UnknownOrderError",
    "split_delivery",
]
