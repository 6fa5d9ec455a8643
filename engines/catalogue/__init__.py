"""Catalogue and inventory: categories, products, stock per warehouse, reservations."""

from engines.catalogue.model import (
    BelowReservedError,
    CatalogueError,
    Category,
    OutOfStockError,
    Product,
    StockLevel,
    UnknownProductError,
)
from engines.catalogue.ports import BinStock
from engines.catalogue.repository import SqlCatalogueRepository, SqlStockMovements
from engines.catalogue.service import CatalogueService

__all__ = [
    "BelowReservedError",
    "BinStock",
    "CatalogueError",
    "CatalogueService",
    "Category",
    "OutOfStockError",
    "Product",
    "SqlCatalogueRepository",
    "SqlStockMovements",
    "StockLevel",
    "UnknownProductError",
]
