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
