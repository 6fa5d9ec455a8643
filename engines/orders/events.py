"""Events of the orders context (versioned; the topic names the version)."""

from __future__ import annotations

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


class OrderStatusChanged(DomainEvent):
    topic: ClassVar[str] = "omniroute.orders.order_status_changed.v1"

    reference: str
    customer: str
    previous: str
    status: str
