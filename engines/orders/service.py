"""Order use cases: keep the customer's cart, place it once, list and advance orders."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus.outbox import record
from core.cache import KeyValueCache, NoCache
from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, region
from engines.catalogue import (
    BinStock,
    OutOfStockError,
    SqlCatalogueRepository,
    SqlStockMovements,
    StockLevel,
)
from engines.catalogue.events import StockReleased, StockReserved, StockShipped
from engines.orders.events import (
    DeliveredLinePayload,
    OrderDelivered,
    OrderLinePayload,
    OrderPaidFromCredit,
    OrderPlaced,
    OrderReservationExpired,
    OrderStatusChanged,
)
from engines.orders.model import (
    ACCOUNT_CREDIT_WINDOW,
    LAPSED_UNPAID,
    PREPAID,
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PlaceOrder,
    ReservationExpiredError,
    RestPolicy,
    Split,
    UnknownOrderError,
    split_delivery,
)
from engines.orders.repository import (
    SqlCartRepository,
    SqlOrderRepository,
    get_cart,
    put_cart,
    remove_cart,
)
from engines.pricing import PriceLockMismatchError, PricingService, Quote, line_doc

REFERENCE_ATTEMPTS = 8


class _Miss(enum.Enum):
    """Nothing in the cache (as opposed to a cached "no cart")."""

    MISS = enum.auto()


_MISS: Final = _Miss.MISS


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
        bins: BinStock | None = None,
        payment_window: timedelta | None = None,
    ) -> None:
        self._db = db
        # With workflows off nothing else waits for a prepaid order's money: placed unpaid, its
        # hold lapses after this window (as the workflow unwinds it then). None: its workflow's.
        self._payment_window = payment_window
        self._bins = bins  # the WMS's bins, kept to the catalogue's on_hand (see BinStock)
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
        cached = await self._cached_cart(customer)
        if cached is _MISS:
            found = await get_cart(self._db, customer)
            await self._cache_cart(customer, found)
        else:
            found = cached
        if found is None:
            return Cart(customer, region)
        cart, updated_at = found
        if cart.region != region or self._clock.now() - updated_at > self._cart_ttl:
            return Cart(customer, region)
        return cart

    async def save_cart(self, cart: Cart) -> None:
        await self._cache.forget(_cart_key(cart.customer))
        now = self._clock.now()
        if cart.is_empty:
            await remove_cart(self._db, cart.customer)
        else:
            await put_cart(self._db, cart, now)
        await self._cache_cart(cart.customer, None if cart.is_empty else (cart, now))

    async def forget_cart(self, customer: Phone) -> None:
        """Drop the cached copy of `customer`'s cart: it changed outside this service (moved to
        her new number)."""
        await self._cache.forget(_cart_key(customer))

    async def _cached_cart(self, customer: Phone) -> tuple[Cart, datetime] | _Miss | None:
        """The cached answer: a cart, None for "no cart" (cached too), or `_MISS`."""
        raw = await self._cache.recall(_cart_key(customer))
        if raw is None:
            return _MISS
        doc = json.loads(raw)
        if not doc:
            return None
        cart = Cart(
            customer,
            RegionCode(doc["region"]),
            tuple(CartLine(sku, int(quantity)) for sku, quantity in doc["lines"]),
            doc.get("voucher"),
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
                "voucher": cart.voucher,
            }
        await self._cache.remember(
            _cart_key(customer),
            json.dumps(doc, separators=(",", ":")).encode(),
            int(self._cart_ttl.total_seconds()),
        )

    async def place(self, command: PlaceOrder) -> Order:
        """Quote (or take the locked quote), reserve and record in one transaction.

        The same idempotency key returns the same order, even once a price lock has expired.
        """
        async with self._db.transaction() as s:
            existing = await SqlOrderRepository(s).by_idempotency_key(command.idempotency_key)
        if existing is not None:
            return existing
        # Priced before the transaction opens: the price book may need its own connection,
        # and a transaction waiting on a second connection can starve the pool.
        lines = [(line.sku, line.quantity) for line in command.lines]
        if command.price_lock_id is not None:
            lock = await self._pricing.locked(command.price_lock_id)
            if lock.region != command.region.value:
                raise PriceLockMismatchError(str(lock.id))
            quote = lock.check(command.customer.e164, lines, self._clock.now())
            lock_id: uuid.UUID | None = lock.id
        else:
            quote = await self._pricing.quote(
                command.region, lines, customer=command.customer, voucher=command.voucher
            )
            lock_id = None
        limits = await self._pricing.limits(command.region)

        async def work(s: AsyncSession) -> Order:
            return await self._place_in(s, command, quote, limits, lock_id)

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

    async def _place_in(
        self,
        s: AsyncSession,
        command: PlaceOrder,
        quote: Quote,
        limits: dict[str, tuple[int | None, Decimal | None]],
        lock_id: uuid.UUID | None,
    ) -> Order:
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
        now = self._clock.now()
        ttl = command.reservation_ttl
        if ttl is None and command.payment_method is PaymentMethod.ACCOUNT_CREDIT:
            ttl = ACCOUNT_CREDIT_WINDOW  # paid at once by its checkout, or it lapses
        elif ttl is None and command.payment_method in PREPAID:
            ttl = self._payment_window  # paid within it (mark_paid ends the hold), or it lapses
        order = Order(
            id=self._ids.uuid(),
            reference=await self._free_reference(orders),
            customer=command.customer,
            region=command.region,
            lines=tuple(
                OrderLine(
                    ql.sku,
                    ql.name,
                    ql.quantity,
                    ql.unit_price,
                    ql.discount,
                    warehouse_id=stock[ql.sku].warehouse_id,
                    pricing=line_doc(ql),
                )
                for ql in quote.lines
            ),
            subtotal=quote.subtotal,
            discount=quote.discount,
            tax=quote.tax,
            total=quote.total,
            payment_method=command.payment_method,
            status=OrderStatus.PLACED,
            idempotency_key=command.idempotency_key,
            created_at=now,
            delivery_fee=quote.delivery,
            voucher=quote.voucher,
            price_lock_id=lock_id,
            reserved_until=now + ttl if ttl else None,
        )
        await orders.add(order)
        if lock_id is not None:
            await self._pricing.use_lock(s, lock_id, order.id)
        await self._pricing.record_use(s, quote, limits, order.id)
        if command.clear_cart:
            await SqlCartRepository(s).remove(command.customer)
        await record(s, self._placed(order, customer_texted=command.customer_texted))
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

    def _placed(self, order: Order, *, customer_texted: bool = False) -> OrderPlaced:
        return OrderPlaced(
            customer_texted=customer_texted,
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
            delivery_fee=str(order.delivery_fee.amount if order.delivery_fee else 0),
            voucher=order.voucher,
            price_lock=str(order.price_lock_id) if order.price_lock_id else None,
            reserved_until=order.reserved_until,
            back_order_of=str(order.back_order_of) if order.back_order_of else None,
            lines=tuple(
                OrderLinePayload(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=str(line.unit_price.amount),
                    discount=str(line.discount.amount),
                    tax_class=str((line.pricing or {}).get("tax_class", "standard")),
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

    async def paid_from_credit(self, reference: str) -> bool:
        """The books took the order's total from the credit on her account: it is paid now, and
        `OrderPaidFromCredit` says so (no rail will: an order's workflow waiting for a rail's
        money hears it as its payment). False when it was already (a retried confirm)."""
        async with self._db.transaction() as s:
            repo = SqlOrderRepository(s)
            now = self._clock.now()
            if not await repo.mark_paid(reference, now):
                return False
            order = await self._load(repo, reference)
            await record(
                s,
                OrderPaidFromCredit(
                    event_id=self._ids.uuid(),
                    occurred_at=now,
                    aggregate_id=str(order.id),
                    reference=order.reference,
                    customer=order.customer.e164,
                    total=str(order.total.amount),
                    currency=order.total.currency,
                    payment_method=order.payment_method.value,
                ),
            )
            return True

    async def outstanding(self, customer: Phone) -> tuple[int, Money | None]:
        """Orders still to be paid on delivery, and the cash she pays at their doors: each total
        rounded to the cash unit, as the driver collects it (None when nothing is owed)."""
        async with self._db.transaction() as s:
            orders = await SqlOrderRepository(s).open_on_delivery(customer)
        if not orders:
            return 0, None
        total = orders[0].total.in_cash()
        for order in orders[1:]:
            total = total + order.total.in_cash()
        return len(orders), total

    async def awaiting_dispatch(self, region: RegionCode) -> list[Order]:
        """The region's orders not yet on their way, oldest first: placed or confirmed, or
        already in the warehouse (an order's workflow releases it to picking before any route
        exists; the planner leaves out those already on a task)."""
        async with self._db.transaction() as s:
            return await SqlOrderRepository(s).in_region(
                region,
                (
                    OrderStatus.PLACED,
                    OrderStatus.CONFIRMED,
                    OrderStatus.PICKING,
                    OrderStatus.PACKED,
                ),
            )

    async def placed_with(self, idempotency_key: str) -> Order | None:
        """The order an idempotency key already placed, if any (a retry's answer)."""
        async with self._db.transaction() as s:
            return await SqlOrderRepository(s).by_idempotency_key(idempotency_key)

    async def many(self, references: Sequence[str]) -> dict[str, Order]:
        """The orders found among `references`, by reference (upper case): a page at once."""
        async with self._db.transaction() as s:
            found = await SqlOrderRepository(s).by_references([r.upper() for r in references])
        return {o.reference: o for o in found}

    async def get(self, reference: str) -> Order:
        async with self._db.transaction() as s:
            order = await SqlOrderRepository(s).by_reference(reference.upper())
        if order is None:
            raise UnknownOrderError(reference)
        return order

    async def back_order(self, order: Order) -> Order | None:
        """The order of the rest a partial delivery kept for it (RestPolicy.BACKORDER), if any."""
        async with self._db.transaction() as s:
            return await SqlOrderRepository(s).back_order(order.id)

    async def lineage(self, order: Order) -> list[Order]:
        """The order and the orders it is the back-order of, the first placed first: whose
        payment paid for a back-order born paid (Order.paid_by_original)."""
        line = [order]
        async with self._db.transaction() as s:
            repo = SqlOrderRepository(s)
            while line[0].back_order_of is not None:
                before = await repo.by_id(line[0].back_order_of)
                if before is None:
                    break
                line.insert(0, before)
        return line

    async def advance(
        self, reference: str, target: OrderStatus, *, reason: str | None = None
    ) -> Order:
        """Move an order along its lifecycle; stock follows (released, shipped, taken back).

        Confirming an order commits its reservation; confirming one whose unconfirmed hold has
        lapsed cancels it instead (its stock is released) and raises ReservationExpiredError.
        """
        if target is OrderStatus.DELIVERED:
            return await self.deliver(reference)
        async with self._db.transaction() as s:
            moved, lapsed = await self._advance(s, reference, target, reason)
        if lapsed is not None:
            assert lapsed.reserved_until is not None
            raise ReservationExpiredError(lapsed.reference, lapsed.reserved_until)
        return moved

    async def advance_in(
        self, s: AsyncSession, reference: str, target: OrderStatus, *, reason: str | None = None
    ) -> Order:
        """`advance` inside the caller's transaction (a workflow activity records its effect).

        A lapsed hold raises ReservationExpiredError and the caller's transaction rolls back;
        the reservation sweeper cancels the order on its own round.
        """
        if target is OrderStatus.DELIVERED:
            return await self._deliver_in(s, reference, {}, RestPolicy.RELEASE)
        moved, lapsed = await self._advance(s, reference, target, reason)
        if lapsed is not None:
            assert lapsed.reserved_until is not None
            raise ReservationExpiredError(lapsed.reference, lapsed.reserved_until)
        return moved

    async def recall_in(self, s: AsyncSession, reference: str, reason: str) -> bool:
        """A dispatched order whose goods never left the dock (its driver's route expired before
        the first door) is packed again, in the caller's transaction, to be routed once more.

        Not a step of the lifecycle an operator may take (`advance` refuses it): only the gig
        platform knows the goods did not leave. Stock stays where it is, reserved and at the
        dock. False when the order is not dispatched (nothing to recall)."""
        repo = SqlOrderRepository(s)
        order = await self._load(repo, reference)
        if order.status is not OrderStatus.DISPATCHED:
            return False
        now = self._clock.now()
        packed = replace(order, status=OrderStatus.PACKED)
        await repo.set_status(packed, order.status, now)
        await record(s, self._changed(order, packed, now, reason))
        return True

    async def _advance(
        self, s: AsyncSession, reference: str, target: OrderStatus, reason: str | None
    ) -> tuple[Order, Order | None]:
        now = self._clock.now()
        lapsed: Order | None = None
        repo = SqlOrderRepository(s)
        order = await self._load(repo, reference)
        if target is OrderStatus.CONFIRMED and order.hold_expired(now):
            if await self._expire(s, order, now):
                return order, order
            order = await self._load(repo, reference)  # paid or moved meanwhile: as it is now
        moved = order.advance(target)
        if target is OrderStatus.CONFIRMED:
            moved = replace(moved, reserved_until=None)
        await repo.set_status(moved, order.status, now)  # first: a lost race moves nothing
        releasing = target is OrderStatus.CANCELLED or (
            target is OrderStatus.RETURNED and order.status is OrderStatus.DISPATCHED
        )
        if releasing:
            await self._release(
                s, order, [(ln, ln.quantity) for ln in order.lines], now, reason or target.value
            )
        elif target is OrderStatus.RETURNED:
            await self._take_back(s, order)
        if target is OrderStatus.CANCELLED:
            await self._pricing.give_back(s, order.id)
        dispatch = await repo.count_dispatch(order.id) if target is OrderStatus.DISPATCHED else None
        await record(s, self._changed(order, moved, now, reason, dispatch))
        return moved, lapsed

    async def deliver(
        self,
        reference: str,
        delivered: Mapping[str, int] | None = None,
        *,
        rest: RestPolicy = RestPolicy.RELEASE,
    ) -> Order:
        """Deliver a dispatched order, in full or in part.

        `delivered` gives the quantity that arrived per sku (a sku left out arrived in full).
        What did not arrive goes back on the shelf (RELEASE) or stays reserved for a new order
        of the rest at the same prices (BACKORDER). The delivered order then owes only for what
        arrived: discounts are shared by quantity and VAT recomputed (see `split_delivery`).
        """
        async with self._db.transaction() as s:
            return await self._deliver_in(s, reference, delivered or {}, rest)

    async def _deliver_in(
        self,
        s: AsyncSession,
        reference: str,
        delivered: Mapping[str, int],
        rest: RestPolicy,
    ) -> Order:
        now = self._clock.now()
        repo = SqlOrderRepository(s)
        order = await self._load(repo, reference)
        order.advance(OrderStatus.DELIVERED)  # refuses anything but dispatched
        split = split_delivery(order, delivered or {}, region(order.region).vat_rate)
        subtotal, discount, tax, total = split.delivered_amounts
        done = replace(
            order,
            status=OrderStatus.DELIVERED,
            lines=split.delivered,
            subtotal=subtotal,
            discount=discount,
            tax=tax,
            total=total,
            reserved_until=None,
            # pay on delivery: the driver took the cash for what arrived at this door (its
            # posting on the ledger follows the delivered event, core.app.cash)
            paid_at=order.paid_at
            or (now if order.payment_method is PaymentMethod.ON_DELIVERY else None),
        )
        await repo.save_delivery(done, order.status, now)  # first: a lost race ships nothing
        moves = SqlStockMovements(s, self._bins)
        shipped = []
        for line in split.delivered:
            if line.delivered_quantity:
                warehouse = await self._warehouse(s, order, line)
                await moves.ship(warehouse, line.sku, line.delivered_quantity, order.reference)
                shipped.append((warehouse, line.sku, line.delivered_quantity))
        back: Order | None = None
        if split.rest and rest is RestPolicy.BACKORDER:
            back = await self._back_order(s, order, split, now)
        elif split.rest:
            await self._release(
                s, order, [(ln, ln.quantity) for ln in split.rest], now, "undelivered"
            )
        await record(
            s,
            self._changed(order, done, now, None),
            OrderDelivered(
                event_id=self._ids.uuid(),
                occurred_at=now,
                aggregate_id=str(order.id),
                reference=order.reference,
                customer=order.customer.e164,
                lines=tuple(
                    DeliveredLinePayload(
                        sku=ln.sku, ordered=ln.quantity, delivered=ln.delivered_quantity or 0
                    )
                    for ln in split.delivered
                ),
                total=str(total.amount),
                rest="none" if not split.rest else rest.value,
                back_order=back.reference if back else None,
            ),
            *(
                StockShipped(
                    event_id=self._ids.uuid(),
                    occurred_at=now,
                    aggregate_id=f"{warehouse}:{sku}",
                    warehouse_id=warehouse,
                    sku=sku,
                    quantity=quantity,
                    order_reference=order.reference,
                )
                for warehouse, sku, quantity in shipped
            ),
        )
        return done

    async def expire_reservations(
        self,
        limit: int = 100,
        *,
        why: Callable[[list[str]], Awaitable[Mapping[str, str]]] | None = None,
    ) -> list[str]:
        """Cancel placed orders whose unconfirmed (unpaid) hold has lapsed; their stock returns.

        Safe to run from several replicas: each order moves once (its status changes only from
        placed, still unpaid; a pass that finds it already moved or paid skips it). `why` names,
        of the lapsed orders' references, those cancelled for another reason than no payment in
        time (its payments all failed). Returns the references that expired.

        With a payment window (workflows off), an unpaid prepaid order with no hold on its row
        (placed before holds were kept) lapses too once the window from its placing is over.
        """
        now = self._clock.now()
        window = self._payment_window
        unheld = now - window if window is not None else None
        async with self._db.transaction() as s:
            lapsed = await SqlOrderRepository(s).lapsed_holds(now, limit, unheld)
        reasons = await why([o.reference for o in lapsed]) if lapsed and why is not None else {}
        expired = []
        async with self._db.transaction() as s:
            for order in lapsed:
                reason = reasons.get(order.reference, LAPSED_UNPAID)
                if await self._expire(s, order, now, reason, unheld):
                    expired.append(order.reference)
        return expired

    async def _expire(
        self,
        s: AsyncSession,
        order: Order,
        now: datetime,
        reason: str = LAPSED_UNPAID,
        unheld_before: datetime | None = None,
    ) -> bool:
        """Cancel the order whose hold lapsed, its stock back; False when another replica's
        pass moved it first, or its money landed since it was read (the status is the first
        write, so nothing of this order was written). `unheld_before`: as `lapsed_holds`."""
        cancelled = order.advance(OrderStatus.CANCELLED)
        if not await SqlOrderRepository(s).lapse(order, now, unheld_before):
            return False
        await self._release(s, order, [(ln, ln.quantity) for ln in order.lines], now, reason)
        await self._pricing.give_back(s, order.id)
        window = self._payment_window or timedelta(0)
        # no hold on its row: its window ran from its placing
        reserved_until = order.reserved_until or order.created_at + window
        await record(
            s,
            OrderReservationExpired(
                event_id=self._ids.uuid(),
                occurred_at=now,
                aggregate_id=str(order.id),
                reference=order.reference,
                customer=order.customer.e164,
                reserved_until=reserved_until,
            ),
            self._changed(order, cancelled, now, reason),
        )
        return True

    async def _release(
        self,
        s: AsyncSession,
        order: Order,
        lines: Sequence[tuple[OrderLine, int]],
        now: datetime,
        reason: str,
    ) -> None:
        moves = SqlStockMovements(s, self._bins)
        events = []
        for line, quantity in lines:
            if quantity <= 0:
                continue
            warehouse = await self._warehouse(s, order, line)
            await moves.release(warehouse, line.sku, quantity, order.reference)
            events.append(
                StockReleased(
                    event_id=self._ids.uuid(),
                    occurred_at=now,
                    aggregate_id=f"{warehouse}:{line.sku}",
                    warehouse_id=warehouse,
                    sku=line.sku,
                    quantity=quantity,
                    order_reference=order.reference,
                    reason=reason,
                )
            )
        await record(s, *events)

    async def _take_back(self, s: AsyncSession, order: Order) -> None:
        """A delivered order returned: what was delivered goes back on hand."""
        moves = SqlStockMovements(s, self._bins)
        for line in order.lines:
            quantity = line.quantity if line.delivered_quantity is None else line.delivered_quantity
            if quantity > 0:
                warehouse = await self._warehouse(s, order, line)
                await moves.restock(warehouse, line.sku, quantity, order.reference)

    async def _warehouse(self, s: AsyncSession, order: Order, line: OrderLine) -> str:
        if line.warehouse_id is not None:
            return line.warehouse_id
        # Orders placed before lines named their warehouse: the region's serving warehouse.
        levels = await SqlCatalogueRepository(s).stock(order.region, [line.sku])
        return levels[line.sku].warehouse_id

    async def _back_order(
        self, s: AsyncSession, order: Order, split: Split, now: datetime
    ) -> Order:
        """The undelivered rest as a new placed order; its stock stays reserved for it. Of an
        order paid upfront it is born paid: what was paid for the rest is its payment."""
        orders = SqlOrderRepository(s)
        subtotal, discount, tax, total = split.rest_amounts
        back = Order(
            id=self._ids.uuid(),
            reference=await self._free_reference(orders),
            customer=order.customer,
            region=order.region,
            lines=split.rest,
            subtotal=subtotal,
            discount=discount,
            tax=tax,
            total=total,
            payment_method=order.payment_method,
            status=OrderStatus.PLACED,
            idempotency_key=f"{order.idempotency_key[:180]}:backorder",
            created_at=now,
            delivery_fee=Money.zero(order.total.currency),
            voucher=order.voucher,
            back_order_of=order.id,
            # paid upfront for all of it: the rest is paid already, from the same payment
            paid_at=now if order.paid_at is not None and order.payment_method in PREPAID else None,
        )
        await orders.add(back)
        await record(s, self._placed(back))
        return back

    async def _load(self, repo: SqlOrderRepository, reference: str) -> Order:
        order = await repo.by_reference(reference.upper())
        if order is None:
            raise UnknownOrderError(reference)
        return order

    def _changed(
        self,
        order: Order,
        moved: Order,
        now: datetime,
        reason: str | None,
        dispatch: int | None = None,
    ) -> OrderStatusChanged:
        return OrderStatusChanged(
            event_id=self._ids.uuid(),
            occurred_at=now,
            aggregate_id=str(order.id),
            reference=order.reference,
            customer=order.customer.e164,
            previous=order.status.value,
            status=moved.status.value,
            reason=reason,
            dispatch=dispatch,
        )
