"""Events of the orders context (versioned; the topic names the version)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from core.bus import DomainEvent


class OrderLinePayload(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    quantity: int
    unit_price: str
    discount: str
    # the quote's tax class ("standard", "zero", "exempt"): the invoice taxes what the quote did
    tax_class: str = "standard"


class OrderPlaced(DomainEvent):
    topic: ClassVar[str] = "omniroute.orders.order_placed.v1"

    reference: str
    customer: str
    region: str
    currency: str
    subtotal: str
    discount: str
    tax: str
    total: str
    payment_method: str
    lines: tuple[OrderLinePayload, ...]
    delivery_fee: str = "0"
    voucher: str | None = None
    price_lock: str | None = None
    reserved_until: datetime | None = None
    back_order_of: str | None = None
    # Placed in an SMS conversation, whose closing text told the customer already: the SMS
    # confirmation every other order gets is not sent (one text per order, not two).
    customer_texted: bool = False


class OrderStatusChanged(DomainEvent):
    topic: ClassVar[str] = "omniroute.orders.order_status_changed.v1"

    reference: str
    customer: str
    previous: str
    status: str
    reason: str | None = None
    # On a move to dispatched: which time the order left (1, then 2 after a recall…); None on
    # other moves, and on events written before it was counted.
    dispatch: int | None = None


class OrderPaidFromCredit(DomainEvent):
    """The credit kept on her account paid the order's whole `total` (checkout or Pay again):
    no rail reports it, so this is the news its payment came."""

    topic: ClassVar[str] = "omniroute.orders.order_paid_from_credit.v1"

    reference: str
    customer: str
    total: str
    currency: str
    payment_method: str  # the rail Pay again left unasked, or ACCOUNT_CREDIT at checkout


class DeliveredLinePayload(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    ordered: int
    delivered: int


class OrderDelivered(DomainEvent):
    """What arrived, line by line, what the customer owes for it, and what became of the rest."""

    topic: ClassVar[str] = "omniroute.orders.order_delivered.v1"

    reference: str
    customer: str
    lines: tuple[DeliveredLinePayload, ...]
    total: str
    rest: str  # "none", "release" or "backorder"
    back_order: str | None = None


class OrderReservationExpired(DomainEvent):
    topic: ClassVar[str] = "omniroute.orders.order_reservation_expired.v1"

    reference: str
    customer: str
    reserved_until: datetime
