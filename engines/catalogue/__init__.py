"""Catalogue and inventory: categories, products, stock per warehouse, reservations."""

from engines.catalogue.model import (
    CatalogueError,
    Category,
    OutOfStockError,
    Product,
    StockLevel,
    UnknownProductError,
)
from engines.catalogue.repository import SqlCatalogueRepository, SqlStockMovements
from engines.catalogue.service import CatalogueService

__all__ = [
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
