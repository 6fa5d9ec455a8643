"""SQLAlchemy adapter for price lists, contracts, promotions, zones, usage and price locks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database, Prepared
from core.region import RegionCode
from engines.pricing.locks import PriceLock, quote_from_doc, quote_to_doc
from engines.pricing.model import (
    ContractPrice,
    DeliveryZone,
    PriceEntry,
    PriceLockUsedError,
    PriceTier,
    PricingError,
    Promotion,
    PromotionKind,
    PromotionUsage,
    TaxClass,
)
from engines.pricing.quote import Quote
from engines.pricing.tables import (
    contract_prices,
    customer_terms,
    delivery_zones,
    price_locks,
    prices,
    promotion_order_uses,
    promotion_spend,
    promotion_uses,
    promotions,
    segment_prices,
)


class PromotionExhaustedError(PricingError):
    """A promotion's budget or the customer's uses ran out between the quote and the order."""

    def __init__(self, promotion_id: str) -> None:
        super().__init__(promotion_id)
        self.promotion_id = promotion_id


def _tiers(raw: Iterable[Mapping[str, Any]]) -> tuple[PriceTier, ...]:
    return tuple(PriceTier(int(t["min_quantity"]), Decimal(str(t["unit_price"]))) for t in raw)


def _dec(value: Decimal | None, default: Decimal = Decimal(0)) -> Decimal:
    return default if value is None else value


# A new caller's first price list asks for their terms: prepared, no ORM session.
TERMS_OF: Final = Prepared(
    lambda _dialect: select(customer_terms.c.segment, customer_terms.c.zone_id).where(
        customer_terms.c.customer == bindparam("customer")
    )
)
CONTRACTS_OF: Final = Prepared(
    lambda _dialect: (
        select(
            contract_prices.c.id,
            contract_prices.c.customer,
            contract_prices.c.sku,
            contract_prices.c.unit_price,
            contract_prices.c.valid_from,
            contract_prices.c.valid_to,
        )
        .where(
            contract_prices.c.region == bindparam("region"),
            contract_prices.c.customer == bindparam("customer"),
            contract_prices.c.valid_to > bindparam("now", type_=contract_prices.c.valid_to.type),
        )
        .order_by(contract_prices.c.valid_from.desc())
    )
)


async def customer_terms_of(db: Database, customer: str) -> tuple[str | None, str | None]:
    """`SqlPriceRepository.terms` without a session."""
    rows = await db.fetch(TERMS_OF, customer=customer)
    return (None, None) if not rows else (rows[0][0], rows[0][1])


async def contracts_of(
    db: Database, region: RegionCode, customer: str, now: datetime
) -> dict[str, ContractPrice]:
    """`SqlPriceRepository.contracts` without a session."""
    found: dict[str, ContractPrice] = {}
    for row in await db.fetch(CONTRACTS_OF, region=region.value, customer=customer, now=now):
        contract = ContractPrice(*row)
        if contract.valid_at(now):
            found.setdefault(contract.sku, contract)
    return found


class SqlPriceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def prices(self, region: RegionCode, skus: Sequence[str]) -> dict[str, PriceEntry]:
        rows = await self._s.execute(
            select(prices).where(prices.c.region == region.value, prices.c.sku.in_(skus))
        )
        return {r.sku: self._entry(r) for r in rows}

    async def all_prices(self, region: RegionCode) -> dict[str, PriceEntry]:
        rows = await self._s.execute(select(prices).where(prices.c.region == region.value))
        return {r.sku: self._entry(r) for r in rows}

    @staticmethod
    def _entry(r: Any) -> PriceEntry:
        return PriceEntry(
            sku=r.sku,
            currency=r.currency,
            unit_price=r.unit_price,
            tiers=_tiers(r.tiers),
            tax_class=TaxClass(r.tax_class),
        )

    async def segment_prices(self, region: RegionCode) -> dict[str, dict[str, PriceEntry]]:
        """Every segment's price list of the region: {segment: {sku: entry}}."""
        rows = await self._s.execute(
            select(segment_prices).where(segment_prices.c.region == region.value)
        )
        books: dict[str, dict[str, PriceEntry]] = {}
        for r in rows:
            books.setdefault(r.segment, {})[r.sku] = PriceEntry(
                r.sku, r.currency, r.unit_price, _tiers(r.tiers)
            )
        return books

    async def zones(self, region: RegionCode) -> dict[str, DeliveryZone]:
        rows = await self._s.execute(
            select(delivery_zones).where(delivery_zones.c.region == region.value)
        )
        return {r.id: DeliveryZone(r.id, dict(r.names), r.fee, r.free_from) for r in rows}

    async def promotions(self, region: RegionCode) -> list[Promotion]:
        """Every promotion of the region; the quote applies only those live at its time."""
        rows = await self._s.execute(select(promotions).where(promotions.c.region == region.value))
        return [
            Promotion(
                id=r.id,
                names=dict(r.names),
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                kind=PromotionKind(r.kind),
                percent_off=r.percent_off,
                amount_off=_dec(r.amount_off),
                buy_quantity=r.buy_quantity or 0,
                get_quantity=r.get_quantity or 0,
                bundle={str(k): int(v) for k, v in (r.bundle or {}).items()},
                bundle_price=_dec(r.bundle_price),
                sku=r.sku,
                category_id=r.category_id,
                min_quantity=r.min_quantity,
                min_order=_dec(r.min_order),
                priority=r.priority,
                exclusive=bool(r.exclusive),
                per_customer_limit=r.per_customer_limit,
                budget=r.budget,
                code=r.code,
                segments=frozenset(r.segments or ()),
            )
            for r in rows
        ]

    async def terms(self, customer: str) -> tuple[str | None, str | None]:
        """The customer's segment and delivery zone (None, None when pricing knows nothing)."""
        row = (
            await self._s.execute(
                select(customer_terms).where(customer_terms.c.customer == customer)
            )
        ).first()
        return (None, None) if row is None else (row.segment, row.zone_id)

    async def contracts(
        self, region: RegionCode, customer: str, now: datetime
    ) -> dict[str, ContractPrice]:
        """The customer's contract per sku: the one valid now, else none."""
        rows = await self._s.execute(
            select(contract_prices)
            .where(
                contract_prices.c.region == region.value,
                contract_prices.c.customer == customer,
                contract_prices.c.valid_to > now,
            )
            .order_by(contract_prices.c.valid_from.desc())
        )
        found: dict[str, ContractPrice] = {}
        for r in rows:
            contract = ContractPrice(
                r.id, r.customer, r.sku, r.unit_price, r.valid_from, r.valid_to
            )
            if contract.valid_at(now):
                found.setdefault(r.sku, contract)
        return found

    async def usage(self, customer: str | None, ids: Sequence[str]) -> dict[str, PromotionUsage]:
        if not ids:
            return {}
        spent = {
            r.promotion_id: r.spent
            for r in await self._s.execute(
                select(promotion_spend).where(promotion_spend.c.promotion_id.in_(ids))
            )
        }
        uses: dict[str, int] = {}
        if customer is not None:
            uses = {
                r.promotion_id: r.uses
                for r in await self._s.execute(
                    select(promotion_uses).where(
                        promotion_uses.c.customer == customer,
                        promotion_uses.c.promotion_id.in_(ids),
                    )
                )
            }
        return {
            pid: PromotionUsage(uses.get(pid, 0), spent.get(pid, Decimal(0)))
            for pid in set(spent) | set(uses)
        }

    async def record_use(
        self,
        customer: str,
        spend: Mapping[str, Decimal],
        limits: Mapping[str, tuple[int | None, Decimal | None]],
        order_id: uuid.UUID,
    ) -> None:
        """Count one use per promotion for the customer and add to its spend, within limits.

        Conditional updates, as for stock: two orders racing for the last of a budget cannot
        both get it; the loser's transaction fails with PromotionExhaustedError. What the
        order took is kept with it, for `give_back`.
        """
        upsert = pg_insert if self._s.get_bind().dialect.name == "postgresql" else sqlite_insert
        for pid, amount in sorted(spend.items()):
            limit, budget = limits.get(pid, (None, None))
            stmt = upsert(promotion_uses).values(promotion_id=pid, customer=customer, uses=1)
            stmt = stmt.on_conflict_do_update(
                index_elements=[promotion_uses.c.promotion_id, promotion_uses.c.customer],
                set_={"uses": promotion_uses.c.uses + 1},
                where=None if limit is None else promotion_uses.c.uses < limit,
            )
            result = await self._s.execute(stmt)
            if result.rowcount != 1 or (limit is not None and limit < 1):  # type: ignore[attr-defined]
                raise PromotionExhaustedError(pid)
            await self._spend(pid, amount, budget)
        await self._s.execute(
            insert(promotion_order_uses),
            [
                {
                    "order_id": order_id,
                    "promotion_id": pid,
                    "customer": customer,
                    "amount": amount,
                    "returned": False,
                }
                for pid, amount in sorted(spend.items())
            ],
        )

    async def give_back(self, order_id: uuid.UUID) -> None:
        """A cancelled order's uses and spend go back to its promotions, once however often
        the cancellation is processed: each row is marked returned by a conditional update."""
        taken = (
            await self._s.execute(
                select(promotion_order_uses).where(
                    promotion_order_uses.c.order_id == order_id,
                    promotion_order_uses.c.returned.is_(False),
                )
            )
        ).all()
        for row in taken:
            result = await self._s.execute(
                update(promotion_order_uses)
                .where(
                    promotion_order_uses.c.order_id == order_id,
                    promotion_order_uses.c.promotion_id == row.promotion_id,
                    promotion_order_uses.c.returned.is_(False),
                )
                .values(returned=True)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another transaction gave this one back
            await self._s.execute(
                update(promotion_uses)
                .where(
                    promotion_uses.c.promotion_id == row.promotion_id,
                    promotion_uses.c.customer == row.customer,
                    promotion_uses.c.uses > 0,
                )
                .values(uses=promotion_uses.c.uses - 1)
            )
            await self._unspend(row.promotion_id, row.amount)

    async def _unspend(self, pid: str, amount: Decimal) -> None:
        if self._s.get_bind().dialect.name == "postgresql":
            await self._s.execute(
                update(promotion_spend)
                .where(promotion_spend.c.promotion_id == pid)
                .values(spent=promotion_spend.c.spent - amount)
            )
            return
        # SQLite keeps amounts as text (see `_spend`): its single writer makes this safe.
        found = await self._s.scalar(
            select(promotion_spend.c.spent).where(promotion_spend.c.promotion_id == pid)
        )
        if found is not None:
            await self._s.execute(
                update(promotion_spend)
                .where(promotion_spend.c.promotion_id == pid)
                .values(spent=max(found - amount, Decimal(0)))
            )

    async def _spend(self, pid: str, amount: Decimal, budget: Decimal | None) -> None:
        if budget is not None and amount > budget:
            raise PromotionExhaustedError(pid)
        if self._s.get_bind().dialect.name == "postgresql":
            # One upsert: the first two orders of a promotion at once both insert otherwise,
            # and the second fails on the key instead of adding to the spend.
            stmt = pg_insert(promotion_spend).values(promotion_id=pid, spent=amount)
            stmt = stmt.on_conflict_do_update(
                index_elements=[promotion_spend.c.promotion_id],
                set_={"spent": promotion_spend.c.spent + stmt.excluded.spent},
                where=None
                if budget is None
                else promotion_spend.c.spent + stmt.excluded.spent <= budget,
            )
            if (await self._s.execute(stmt)).rowcount != 1:  # type: ignore[attr-defined]
                raise PromotionExhaustedError(pid)
            return
        found = await self._s.scalar(
            select(promotion_spend.c.spent).where(promotion_spend.c.promotion_id == pid)
        )
        if found is None:
            await self._s.execute(insert(promotion_spend).values(promotion_id=pid, spent=amount))
            return
        # SQLite keeps amounts as text: compare in Python under its single writer lock,
        # with the old value in the WHERE so a concurrent change makes the update miss.
        if budget is not None and found + amount > budget:
            raise PromotionExhaustedError(pid)
        result = await self._s.execute(
            update(promotion_spend)
            .where(promotion_spend.c.promotion_id == pid, promotion_spend.c.spent == found)
            .values(spent=found + amount)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PromotionExhaustedError(pid)

    async def add_lock(self, lock: PriceLock, *, reusable: bool = False) -> None:
        """`reusable`: the lock may be handed to the same quote asked again (`held_lock`)."""
        await self._s.execute(
            insert(price_locks).values(
                id=lock.id,
                customer=lock.customer,
                region=lock.region,
                lines=[[sku, qty] for sku, qty in lock.lines],
                voucher=lock.voucher,
                quote=quote_to_doc(lock.quote),
                created_at=lock.created_at,
                expires_at=lock.expires_at,
                reusable=reusable,
            )
        )

    async def use_lock(self, lock_id: uuid.UUID, order_id: uuid.UUID) -> None:
        """Give the lock's price to this order; a lock serves one order only."""
        result = await self._s.execute(
            update(price_locks)
            .where(price_locks.c.id == lock_id, price_locks.c.order_id.is_(None))
            .values(order_id=order_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PriceLockUsedError(str(lock_id))

    async def lock(self, lock_id: uuid.UUID) -> PriceLock | None:
        row = (
            await self._s.execute(select(price_locks).where(price_locks.c.id == lock_id))
        ).first()
        return None if row is None else _lock_of(row)

    async def held_lock(self, wanted: PriceLock, now: datetime) -> PriceLock | None:
        """A reusable lock still live and unused that holds what `wanted` would: the same
        customer, region, lines, promo code and quote, prices and all (lines in the same order,
        as the order placed with it lists them). A checkout's lock is never one: the order it
        was taken for would find it used."""
        rows = await self._s.execute(
            select(price_locks)
            .where(
                price_locks.c.customer == wanted.customer,
                price_locks.c.region == wanted.region,
                price_locks.c.reusable.is_(True),
                price_locks.c.order_id.is_(None),
                price_locks.c.expires_at > now,
            )
            .order_by(price_locks.c.expires_at.desc())
        )
        quote = quote_to_doc(wanted.quote)
        lines = [[sku, qty] for sku, qty in wanted.lines]
        for row in rows:
            if row.voucher == wanted.voucher and row.lines == lines and row.quote == quote:
                return _lock_of(row)
        return None


def _lock_of(row: Any) -> PriceLock:
    quote: Quote = quote_from_doc(row.quote)
    return PriceLock(
        id=row.id,
        customer=row.customer,
        region=row.region,
        lines=tuple((str(sku), int(qty)) for sku, qty in row.lines),
        voucher=row.voucher,
        quote=quote,
        created_at=row.created_at,
        expires_at=row.expires_at,
        order_id=row.order_id,
    )
