"""SQLAlchemy adapter for carts and orders: explicit row <-> model mapping."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from core.db import Database, Prepared
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders.model import (
    PREPAID,
    Cart,
    CartLine,
    InvalidTransitionError,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from engines.orders.tables import carts, order_lines, orders


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, order: Order) -> None:
        await self._s.execute(
            insert(orders).values(
                id=order.id,
                reference=order.reference,
                customer=order.customer.e164,
                region=order.region.value,
                currency=order.total.currency,
                subtotal=order.subtotal.amount,
                discount=order.discount.amount,
                tax=order.tax.amount,
                total=order.total.amount,
                payment_method=order.payment_method.value,
                status=order.status.value,
                idempotency_key=order.idempotency_key,
                created_at=order.created_at,
                delivery_fee=(order.delivery_fee.amount if order.delivery_fee else 0),
                voucher=order.voucher,
                price_lock_id=order.price_lock_id,
                reserved_until=order.reserved_until,
                back_order_of=order.back_order_of,
                paid_at=order.paid_at,
                updated_at=order.created_at,
            )
        )
        await self._s.execute(
            insert(order_lines),
            [
                {
                    "order_id": order.id,
                    "position": i,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                    "discount": line.discount.amount,
                    "warehouse_id": line.warehouse_id,
                    "delivered_quantity": line.delivered_quantity,
                    "pricing": dict(line.pricing) if line.pricing is not None else None,
                }
                for i, line in enumerate(order.lines)
            ],
        )

    async def set_status(self, order: Order, was: OrderStatus, now: datetime | None = None) -> None:
        """Move the order from `was` (what the caller read) to its status, or refuse.

        A compare-and-set: of two moves made at once from the same status (a double-tapped
        cancel, an operator's cancel against the workflow's dispatch) one wins; the other is
        refused with the status it lost to, before its stock moves or its events are written.
        """
        values: dict[str, Any] = {
            "status": order.status.value,
            "reserved_until": order.reserved_until,
        }
        if now is not None:
            values["updated_at"] = now
        await self._swap(order, was, values)

    async def save_delivery(self, order: Order, was: OrderStatus, now: datetime) -> None:
        """Store delivered quantities, the re-shared discounts and the amounts now owed, and
        the paid time a cash payment at the door gives it (an order not paid at its delivery
        keeps the column as it is: a payment recorded meanwhile is not undone)."""
        values: dict[str, Any] = {
            "status": order.status.value,
            "subtotal": order.subtotal.amount,
            "discount": order.discount.amount,
            "tax": order.tax.amount,
            "total": order.total.amount,
            "reserved_until": order.reserved_until,
            "updated_at": now,
        }
        if order.paid_at is not None:
            paid = literal(order.paid_at, orders.c.paid_at.type)  # stored as the column stores
            values["paid_at"] = func.coalesce(orders.c.paid_at, paid)
        await self._swap(order, was, values)
        for position, line in enumerate(order.lines):
            await self._s.execute(
                update(order_lines)
                .where(order_lines.c.order_id == order.id, order_lines.c.position == position)
                .values(delivered_quantity=line.delivered_quantity, discount=line.discount.amount)
            )

    async def _swap(self, order: Order, was: OrderStatus, values: dict[str, Any]) -> None:
        result = await self._s.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.status == was.value)
            .values(**values)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            now_is = await self._s.scalar(select(orders.c.status).where(orders.c.id == order.id))
            raise InvalidTransitionError(OrderStatus(now_is or was.value), order.status)

    async def lapsed_holds(
        self, now: datetime, limit: int, unheld_before: datetime | None = None
    ) -> list[Order]:
        """Placed orders whose unconfirmed reservation has run out, oldest first; with
        `unheld_before`, also unpaid prepaid ones without a hold on their row (placed before
        holds were kept) placed before it."""
        rows = (
            await self._s.execute(
                select(orders)
                .where(orders.c.status == OrderStatus.PLACED.value, _lapsed(now, unheld_before))
                .order_by(func.coalesce(orders.c.reserved_until, orders.c.created_at), orders.c.id)
                .limit(limit)
            )
        ).all()
        return await self._hydrate(rows)

    async def lapse(
        self, order: Order, now: datetime, unheld_before: datetime | None = None
    ) -> bool:
        """Cancel the placed order whose unconfirmed hold has run out (`lapsed_holds`), unless
        it moved or was paid since it was read (the payment ends the hold): False then, and
        nothing written."""
        result = await self._s.execute(
            update(orders)
            .where(
                orders.c.id == order.id,
                orders.c.status == OrderStatus.PLACED.value,
                orders.c.paid_at.is_(None),
                _lapsed(now, unheld_before),
            )
            .values(status=OrderStatus.CANCELLED.value, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_dispatch(self, order_id: uuid.UUID) -> int:
        """The order leaves the warehouse once more: which time this is (1 the first, 2 after a
        recall…), counted in the row, so each dispatch has its own number."""
        number = await self._s.scalar(
            update(orders)
            .where(orders.c.id == order_id)
            .values(dispatches=orders.c.dispatches + 1)
            .returning(orders.c.dispatches)
        )
        assert number is not None  # the caller moved this very row
        return int(number)

    async def mark_paid(self, reference: str, at: datetime) -> bool:
        """Record that the order is paid; False when it already was (or does not exist). Paid,
        its hold no longer lapses."""
        result = await self._s.execute(
            update(orders)
            .where(orders.c.reference == reference, orders.c.paid_at.is_(None))
            .values(paid_at=at, reserved_until=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reference_taken(self, reference: str) -> bool:
        found = await self._s.scalar(select(orders.c.id).where(orders.c.reference == reference))
        return found is not None

    async def by_idempotency_key(self, key: str) -> Order | None:
        return await self._one(orders.c.idempotency_key == key)

    async def by_reference(self, reference: str) -> Order | None:
        return await self._one(orders.c.reference == reference)

    async def by_references(self, references: Sequence[str]) -> list[Order]:
        """Many orders at once (a page's): one read of the orders, one of their lines."""
        if not references:
            return []
        rows = (
            await self._s.execute(select(orders).where(orders.c.reference.in_(set(references))))
        ).all()
        return await self._hydrate(rows)

    async def by_id(self, order_id: uuid.UUID) -> Order | None:
        return await self._one(orders.c.id == order_id)

    async def back_order(self, order_id: uuid.UUID) -> Order | None:
        return await self._one(orders.c.back_order_of == order_id)

    async def recent(self, customer: Phone, limit: int) -> list[Order]:
        rows = (
            await self._s.execute(
                select(orders)
                .where(orders.c.customer == customer.e164)
                .order_by(orders.c.created_at.desc(), orders.c.id.desc())
                .limit(limit)
            )
        ).all()
        return await self._hydrate(rows)

    async def open_on_delivery(self, customer: Phone) -> list[Order]:
        rows = (
            await self._s.execute(
                select(orders).where(
                    orders.c.customer == customer.e164,
                    orders.c.payment_method == PaymentMethod.ON_DELIVERY.value,
                    orders.c.status.not_in(
                        [
                            OrderStatus.DELIVERED.value,
                            OrderStatus.CANCELLED.value,
                            OrderStatus.RETURNED.value,
                        ]
                    ),
                )
            )
        ).all()
        return await self._hydrate(rows)

    async def in_region(self, region: RegionCode, statuses: Sequence[OrderStatus]) -> list[Order]:
        rows = (
            await self._s.execute(
                select(orders)
                .where(
                    orders.c.region == region.value,
                    orders.c.status.in_([s.value for s in statuses]),
                )
                .order_by(orders.c.created_at, orders.c.id)
            )
        ).all()
        return await self._hydrate(rows)

    async def _one(self, condition: Any) -> Order | None:
        rows = (await self._s.execute(select(orders).where(condition))).all()
        found = await self._hydrate(rows)
        return found[0] if found else None

    async def _hydrate(self, rows: Sequence[Any]) -> list[Order]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        line_rows = await self._s.execute(
            select(order_lines)
            .where(order_lines.c.order_id.in_(ids))
            .order_by(order_lines.c.order_id, order_lines.c.position)
        )
        lines: dict[uuid.UUID, list[OrderLine]] = {i: [] for i in ids}
        currency = {r.id: r.currency for r in rows}
        for lr in line_rows:
            cur = currency[lr.order_id]
            lines[lr.order_id].append(
                OrderLine(
                    lr.sku,
                    lr.name,
                    lr.quantity,
                    Money(lr.unit_price, cur),
                    Money(lr.discount, cur),
                    lr.warehouse_id,
                    lr.delivered_quantity,
                    lr.pricing,
                )
            )
        return [
            Order(
                id=r.id,
                reference=r.reference,
                customer=Phone(r.customer),
                region=RegionCode(r.region),
                lines=tuple(lines[r.id]),
                subtotal=Money(r.subtotal, r.currency),
                discount=Money(r.discount, r.currency),
                tax=Money(r.tax, r.currency),
                total=Money(r.total, r.currency),
                payment_method=PaymentMethod(r.payment_method),
                status=OrderStatus(r.status),
                idempotency_key=r.idempotency_key,
                created_at=r.created_at,
                paid_at=r.paid_at,
                delivery_fee=Money(r.delivery_fee, r.currency),
                voucher=r.voucher,
                price_lock_id=r.price_lock_id,
                reserved_until=r.reserved_until,
                back_order_of=r.back_order_of,
            )
            for r in rows
        ]


CART_UPDATED = ("region", "lines", "updated_at", "voucher")


def _cart_upsert(dialect: str) -> Executable:
    upsert_of = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = upsert_of(carts).values(
        customer=bindparam("customer"),
        region=bindparam("region"),
        lines=bindparam("lines", type_=carts.c.lines.type),
        updated_at=bindparam("updated_at", type_=carts.c.updated_at.type),
        voucher=bindparam("voucher", type_=carts.c.voucher.type),
    )
    return stmt.on_conflict_do_update(
        index_elements=[carts.c.customer],
        set_={k: stmt.excluded[k] for k in CART_UPDATED},
    )


# Saving a cart is a hot write (adding a line, removing one): prepared, no ORM session.
CART_UPSERT: Final = Prepared(_cart_upsert)
CART_DELETE: Final = Prepared(
    lambda _dialect: delete(carts).where(carts.c.customer == bindparam("customer"))
)


CART_OF: Final = Prepared(
    lambda _dialect: select(
        carts.c.region, carts.c.lines, carts.c.updated_at, carts.c.voucher
    ).where(carts.c.customer == bindparam("customer"))
)


async def get_cart(db: Database, customer: Phone) -> tuple[Cart, datetime] | None:
    """The stored cart and when it was saved (a cache miss on a caller's first screen)."""
    rows = await db.fetch(CART_OF, customer=customer.e164)
    if not rows:
        return None
    region, lines, updated_at, voucher = rows[0]
    cart = Cart(
        customer=customer,
        region=RegionCode(region),
        lines=tuple(CartLine(str(d["sku"]), int(d["quantity"])) for d in lines),
        voucher=voucher,
    )
    return cart, updated_at


async def put_cart(db: Database, cart: Cart, now: datetime) -> None:
    """Insert or replace the customer's cart, in a transaction of its own."""
    await db.execute(CART_UPSERT, **_cart_values(cart, now))


async def remove_cart(db: Database, customer: Phone) -> None:
    await db.execute(CART_DELETE, customer=customer.e164)


def _cart_values(cart: Cart, now: datetime) -> dict[str, Any]:
    return {
        "customer": cart.customer.e164,
        "region": cart.region.value,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in cart.lines],
        "updated_at": now,
        "voucher": cart.voucher,
    }


class SqlCartRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, customer: Phone) -> tuple[Cart, datetime] | None:
        row = (
            await self._s.execute(select(carts).where(carts.c.customer == customer.e164))
        ).first()
        if row is None:
            return None
        cart = Cart(
            customer=customer,
            region=RegionCode(row.region),
            lines=tuple(CartLine(str(d["sku"]), int(d["quantity"])) for d in row.lines),
            voucher=row.voucher,
        )
        return cart, row.updated_at

    async def put(self, cart: Cart, now: datetime) -> None:
        values = _cart_values(cart, now)
        dialect = self._s.get_bind().dialect.name
        upsert_of = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = upsert_of(carts).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[carts.c.customer],
            set_={k: stmt.excluded[k] for k in CART_UPDATED},
        )
        await self._s.execute(stmt)

    async def remove(self, customer: Phone) -> None:
        await self._s.execute(delete(carts).where(carts.c.customer == customer.e164))


def _lapsed(now: datetime, unheld_before: datetime | None) -> ColumnElement[bool]:
    """A hold run out by `now`; with `unheld_before`, or no hold on the row of an unpaid
    prepaid order placed before then (its payment window, counted from its placing, is over)."""
    held = and_(orders.c.reserved_until.is_not(None), orders.c.reserved_until <= now)
    if unheld_before is None:
        return held
    unheld = and_(
        orders.c.reserved_until.is_(None),
        orders.c.paid_at.is_(None),
        orders.c.payment_method.in_(sorted(m.value for m in PREPAID)),
        orders.c.created_at <= unheld_before,
    )
    return or_(held, unheld)
