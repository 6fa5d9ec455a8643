"""Events of the catalogue context."""

from __future__ import annotations

from typing import ClassVar

from core.bus import DomainEvent


class StockReserved(DomainEvent):
    topic: ClassVar[str] = "omniroute.catalogue.stock_reserved.v1"

    warehouse_id: str
    sku: str
    quantity: int
    order_reference: str


class StockReleased(DomainEvent):
    """Reserved stock went back on the shelf (cancelled, expired, undelivered or returned)."""

    topic: ClassVar[str] = "omniroute.catalogue.stock_released.v1"

    warehouse_id: str
    sku: str
    quantity: int
    order_reference: str
    reason: str


class StockShipped(DomainEvent):
    """Delivered stock left the warehouse for good: on hand and reserved both go down."""

    topic: ClassVar[str] = "omniroute.catalogue.stock_shipped.v1"

    warehouse_id: str
    sku: str
    quantity: int
    order_reference: str
