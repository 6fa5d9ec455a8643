"""Order use cases: keep the customer's cart, place it once, list and advance orders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus.outbox import record
from core.cache import KeyValueCache, NoCache
from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import OutOfStockError, SqlCatalogueRepository, StockLevel
from engines.catalogue.events import StockReserved
from engines.orders.events import OrderLinePayload, OrderPlaced, OrderStatusChanged
from engines.orders.model import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderStatus,
    PlaceOrder,
    UnknownOrderError,
)
from engines.orders.repository import SqlCartRepository, SqlOrderRepository
from engines.pricing import PricingService, Quote

REFERENCE_ATTEMPTS = 8


def _cart_key(customer: Phone) -> str:
    return f"cart:{customer.e164}"


class OrderService:
    def __init__(
        self,
        db: Database,
        pricing: PricingService,
        clock: Clock,
        ids: IdGenerator,
        *,
        cart_ttl: timedelta = timedelta(days=1),
        cache: KeyValueCache | None = None,
    ) -> None:
        self._db = db
        self._pricing = pricing
        self._clock = clock
        self._ids = ids
        self._cart_ttl = cart_ttl
        self._cache: KeyValueCache = cache or NoCache()

    async def cart(self, customer: Phone, region: RegionCode) -> Cart:
        """The customer's cart; one older than the cart TTL is forgotten.

        Read on nearly every screen, so it is served from the cache (the session store) and
        read from the database only when the cache has no copy.
        """
        found = await self._cached_cart(customer)
        if found is None:
            async with self._db.transaction() as s:
                found = await SqlCartRepository(s).get(customer)
            await self._cache_cart(customer, found)
        if found is None:
            return Cart(customer, region)
        cart, updated_at = found
        if cart.region != region or self._clock.now() - updated_at > self._cart_ttl:
            return Cart(customer, region)
        return cart

    async def save_cart(self, cart: Cart) -> None:
        await self._cache.forget(_cart_key(cart.customer))
        now = self._clock.now()
        async with self._db.transaction() as s:
            repo = SqlCartRepository(s)
            if cart.is_empty:
                await repo.remove(cart.customer)
            else:
                await repo.put(cart, now)
        await self._cache_cart(cart.customer, None if cart.is_empty else (cart, now))

    async def _cached_cart(self, customer: Phone) -> tuple[Cart, datetime] | None:
        raw = await self._cache.recall(_cart_key(customer))
        if raw is None:
            return None
        doc = json.loads(raw)
        if not doc:
            return None
        cart = Cart(
            customer,
            RegionCode(doc["region"]),
            tuple(CartLine(sku, int(quantity)) for sku, quantity in doc["lines"]),
        )
        return cart, datetime.fromisoformat(doc["updated_at"])

    async def _cache_cart(self, customer: Phone, found: tuple[Cart, datetime] | None) -> None:
        """Remember the database's answer, including "no cart" (stored as an empty object)."""
        doc: dict[str, object] = {}
        if found is not None:
            cart, updated_at = found
            doc = {
                "region": cart.region.value,
                "lines": [[line.sku, line.quantity] for line in cart.lines],
                "updated_at": updated_at.isoformat(),
            }
        await self._cache.remember(
            _cart_key(customer),
            json.dumps(doc, separators=(",", ":")).encode(),
            int(self._cart_ttl.total_seconds()),
        )

    async def place(self, command: PlaceOrder) -> Order:
        """Quote, reserve and record in one transaction; the same key returns the same order."""

        # Priced before the transaction opens: the price book may need its own connection,
        # and a transaction waiting on a second connection can starve the pool.
        quote = await self._pricing.quote(
            command.region, [(line.sku, line.quantity) for line in command.lines]
        )

        async def work(s: AsyncSession) -> Order:
            return await self._place_in(s, command, quote)

        if command.clear_cart:
            await self._cache.forget(_cart_key(command.customer))
        try:
            order = await self._db.retrying(work)
        except IntegrityError:
            # A concurrent duplicate (a retried confirm) placed it first: answer with that order.
            async with self._db.transaction() as s:
                existing = await SqlOrderRepository(s).by_idempotency_key(command.idempotency_key)
            if existing is None:
                raise
            order = existing
        if command.clear_cart:
            await self._cache_cart(command.customer, None)
        return order

    async def _place_in(self, s: AsyncSession, command: PlaceOrder, quote: Quote) -> Order:
        orders = SqlOrderRepository(s)
        existing = await orders.by_idempotency_key(command.idempotency_key)
        if existing is not None:
            return existing
        lines = [(line.sku, line.quantity) for line in command.lines]
        inventory = SqlCatalogueRepository(s)
        stock = await inventory.stock(command.region, [sku for sku, _ in lines])
        reserved: list[tuple[StockLevel, int]] = []
        for sku, quantity in lines:
            level = stock.get(sku)
            if level is None:
                raise OutOfStockError(sku, quantity, 0)
            await inventory.reserve(level, quantity)
            reserved.append((level, quantity))
        order = Order(
            id=self._ids.uuid(),
            reference=await self._free_reference(orders),
            customer=command.customer,
            region=command.region,
            lines=tuple(
                OrderLine(ql.sku, ql.name, ql.quantity, ql.unit_price, ql.discount)
                for ql in quote.lines
            ),
            subtotal=quote.subtotal,
            discount=quote.discount,
            tax=quote.tax,
            total=quote.total,
            payment_method=command.payment_method,
            status=OrderStatus.PLACED,
            idempotency_key=command.idempotency_key,
            created_at=self._clock.now(),
        )
        await orders.add(order)
        if command.clear_cart:
            await SqlCartRepository(s).remove(command.customer)
        await record(s, self._placed(order))
        await record(
            s,
            *(
                StockReserved(
                    event_id=self._ids.uuid(),
                    occurred_at=order.created_at,
                    aggregate_id=f"{level.warehouse_id}:{level.sku}",
                    warehouse_id=level.warehouse_id,
                    sku=level.sku,
                    quantity=quantity,
                    order_reference=order.reference,
                )
                for level, quantity in reserved
            ),
        )
        return order

    def _placed(self, order: Order) -> OrderPlaced:
        return OrderPlaced(
            event_id=self._ids.uuid(),
            occurred_at=order.created_at,
            aggregate_id=str(order.id),
            reference=order.reference,
            customer=order.customer.e164,
            region=order.region.value,
            currency=order.total.currency,
            subtotal=str(order.subtotal.amount),
            discount=str(order.discount.amount),
            tax=str(order.tax.amount),
            total=str(order.total.amount),
            payment_method=order.payment_method.value,
            lines=tuple(
                OrderLinePayload(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=str(line.unit_price.amount),
                    discount=str(line.discount.amount),
                )
                for line in order.lines
            ),
        )

    async def _free_reference(self, orders: SqlOrderRepository) -> str:
        for _ in range(REFERENCE_ATTEMPTS):
            reference = self._ids.reference()
            if not await orders.reference_taken(reference):
                return reference
        raise RuntimeError("could not find a free order reference")

    async def recent(self, customer: Phone, limit: int = 5) -> list[Order]:
        async with self._db.transaction() as s:
            return await SqlOrderRepository(s).recent(customer, limit)

    async def outstanding(self, customer: Phone) -> tuple[int, Money | None]:
        """Orders still to be paid on delivery, and their total (None when nothing is owed)."""
        async with self._db.transaction() as s:
            orders = await SqlOrderRepository(s).open_on_delivery(customer)
        if not orders:
            return 0, None
        total = orders[0].total
        for order in orders[1:]:
            total = total + order.total
        return len(orders), total

    async def awaiting_dispatch(self, region: RegionCode) -> list[Order]:
        """The region's orders not yet on their way (placed or confirmed), oldest first."""
        async with self._db.transaction() as s:
            return await SqlOrderRepository(s).in_region(
                region, (OrderStatus.PLACED, OrderStatus.CONFIRMED)
            )

    async def get(self, reference: str) -> Order:
        async with self._db.transaction() as s:
            order = await SqlOrderRepository(s).by_reference(reference.upper())
        if order is None:
            raise UnknownOrderError(reference)
        return order

    async def advance(self, reference: str, target: OrderStatus) -> Order:
        async with self._db.transaction() as s:
            return await self.advance_in(s, reference, target)

    async def advance_in(self, s: AsyncSession, reference: str, target: OrderStatus) -> Order:
        """`advance` inside the caller's transaction (a workflow activity records its effect)."""
        repo = SqlOrderRepository(s)
        order = await repo.by_reference(reference.upper())
        if order is None:
            raise UnknownOrderError(reference)
        moved = order.advance(target)
        await repo.set_status(moved)
        await record(
            s,
            OrderStatusChanged(
                event_id=self._ids.uuid(),
                occurred_at=self._clock.now(),
                aggregate_id=str(order.id),
                reference=order.reference,
                customer=order.customer.e164,
                previous=order.status.value,
                status=moved.status.value,
            ),
        )
        return moved
