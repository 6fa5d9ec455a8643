"""Expected failures as data (Saleor style): typed results a client can switch on.

Authentication and authorisation are not expected failures of the operation: they come as
GraphQL errors with `extensions.code` (UNAUTHENTICATED, FORBIDDEN) and no data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from channels.graphql.scalars import MoneyType


@strawberry.interface(description="Something the caller can fix; `message` is for developers")
class UserError:
    message: str


@strawberry.type
class OutOfStock(UserError):
    sku: str
    requested: int
    available: int


@strawberry.type
class InvalidVoucher(UserError):
    code: str


@strawberry.type
class UnknownProduct(UserError):
    sku: str


@strawberry.type
class InvalidQuantity(UserError):
    sku: str
    quantity: int


@strawberry.type
class InvalidCart(UserError):
    pass


@strawberry.type
class InvalidCustomer(UserError):
    customer: str


@strawberry.type
class PaymentMethodUnavailable(UserError):
    method: str


@strawberry.type(description="The credit line does not cover this order; it was cancelled")
class CreditRefused(UserError):
    reason: str
    available: MoneyType


@strawberry.type
class InvalidIdempotencyKey(UserError):
    pass


@strawberry.type(
    description="A promotion in the quote ran out (budget or uses) as the order was placed; "
    "nothing was placed: quote again"
)
class PromotionUsedUp(UserError):
    promotion: str


@strawberry.type(
    description="The priceLock given to placeOrder does not hold for this order: it expired "
    "(`expiredAt`, `lockedTotal` what it held), served another order, or was given for another "
    "cart or customer. Nothing was placed: `total` is what the cart costs now; quote again"
)
class PriceChanged(UserError):
    price_lock: strawberry.ID
    expired_at: datetime | None
    locked_total: MoneyType | None
    total: MoneyType


@strawberry.type(description="No credit of the customer's is owed: nothing was asked for")
class NothingOwed(UserError):
    pass


@strawberry.type
class NotFound(UserError):
    reference: str


QuoteError = Annotated[
    InvalidVoucher | UnknownProduct | InvalidQuantity | InvalidCart | InvalidCustomer,
    strawberry.union("QuoteError"),
]

PlaceOrderError = Annotated[
    OutOfStock
    | InvalidVoucher
    | UnknownProduct
    | InvalidQuantity
    | InvalidCart
    | InvalidCustomer
    | PaymentMethodUnavailable
    | CreditRefused
    | InvalidIdempotencyKey
    | PromotionUsedUp
    | PriceChanged,
    strawberry.union("PlaceOrderError"),
]
