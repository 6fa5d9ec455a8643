"""What the catalogue's stock movements tell the warehouse, in the same transaction.

The catalogue's `stock_levels.on_hand` is the source of truth for how much of a SKU a warehouse
holds (reservations check against it); where a warehouse is run by the WMS, its bins (the dock
included, where picked goods wait for their truck) are kept to the same total by the WMS, which
hears of every movement of goods in or out of the building here, in the session that moves
on_hand, so the two never drift.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class BinStock(Protocol):
    async def shipped(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        """`quantity` left the building with the order (delivered): out of the bins."""

    async def released(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        """The order no longer needs `quantity` (cancelled, undelivered): what was picked for
        it goes back from the dock to the shelves; on_hand does not change."""

    async def restocked(
        self, s: AsyncSession, warehouse_id: str, sku: str, quantity: int, order: str | None
    ) -> None:
        """`quantity` came back into the building (a return): put away into bins."""
