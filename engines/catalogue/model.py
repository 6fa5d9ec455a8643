"""Categories, products and stock: what a region sells and how much of it is on the shelf."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.region import RegionCode


class CatalogueError(Exception):
    """Base of the catalogue's domain errors."""


class UnknownProductError(CatalogueError):
    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


class OutOfStockError(CatalogueError):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, available {available}")
        self.sku = sku
        self.requested = requested
        self.available = available


class BelowReservedError(CatalogueError):
    """A stock count would leave less on hand than orders have reserved."""

    def __init__(self, sku: str, on_hand: int, reserved: int) -> None:
        super().__init__(f"{sku}: {on_hand} on hand would be below the {reserved} reserved")
        self.sku = sku
        self.on_hand = on_hand
        self.reserved = reserved


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    region: RegionCode
    names: Mapping[str, str]
    position: int

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    region: RegionCode
    category_id: str
    name: str
    unit: str


@dataclass(frozen=True, slots=True)
class StockLevel:
    warehouse_id: str
    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)

    def reserve(self, quantity: int) -> StockLevel:
        if quantity <= 0:
            raise ValueError("reserve a positive quantity")
        if quantity > self.available:
            raise OutOfStockError(self.sku, quantity, self.available)
        return StockLevel(self.warehouse_id, self.sku, self.on_hand, self.reserved + quantity)
