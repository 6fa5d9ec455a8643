"""Customers: who a phone number belongs to, and the language they chose."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.cache import KeyValueCache, NoCache
from core.clock import Clock
from core.db import Database, Prepared
from core.phone import Phone
from core.region import region_for_phone
from engines.customers.tables import customers
from engines.gig.model import GeoPoint

MAX_ADDRESS = 200


@dataclass(frozen=True, slots=True)
class Customer:
    phone: Phone
    name: str | None
    locale: str | None
    opted_out: bool = False
    # The provider that also stopped messaging her (its opt-out keyword), None when only we did.
    opted_out_by: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPoint:
    """Where a customer's deliveries go: the address a driver reads and the point routes use."""

    address: str
    point: GeoPoint

    def __post_init__(self) -> None:
        if not 0 < len(self.address.strip()) <= MAX_ADDRESS:
            raise ValueError(f"an address is 1 to {MAX_ADDRESS} characters")


CACHE_SECONDS = 3600
# A new caller's first screen asks for them: prepared, no ORM session.
CUSTOMER_BY_PHONE: Final = Prepared(
    lambda _dialect: select(
        customers.c.name, customers.c.locale, customers.c.opted_out, customers.c.opted_out_by
    ).where(customers.c.phone == bindparam("phone"))
)


class CustomerService:
    def __init__(self, db: Database, clock: Clock, cache: KeyValueCache | None = None) -> None:
        self._db = db
        self._clock = clock
        self._cache: KeyValueCache = cache or NoCache()

    async def get(self, phone: Phone) -> Customer | None:
        """Asked at the start of every conversation, so the answer is cached (even "unknown")."""
        key = f"customer:{phone.e164}"
        raw = await self._cache.recall(key)
        if raw is not None:
            doc = json.loads(raw)
            if not doc:
                return None
            return Customer(
                phone, doc["name"], doc["locale"], doc["opted_out"], doc.get("opted_out_by")
            )
        rows = await self._db.fetch(CUSTOMER_BY_PHONE, phone=phone.e164)
        found = None if not rows else Customer(phone, *rows[0])
        doc = (
            {
                "name": found.name,
                "locale": found.locale,
                "opted_out": found.opted_out,
                "opted_out_by": found.opted_out_by,
            }
            if found
            else {}
        )
        await self._cache.remember(key, json.dumps(doc).encode(), CACHE_SECONDS)
        return found

    async def many(self, phones: Collection[Phone]) -> dict[Phone, Customer]:
        """The known customers among `phones`, in one read (a driver's page of stops): fresh
        from the table, not one cache look-up per phone."""
        if not phones:
            return {}
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(
                    customers.c.phone, customers.c.name, customers.c.locale, customers.c.opted_out
                ).where(customers.c.phone.in_(sorted({p.e164 for p in phones})))
            )
            return {
                Phone(r.phone): Customer(Phone(r.phone), r.name, r.locale, r.opted_out)
                for r in rows
            }

    async def set_locale(self, phone: Phone, locale: str) -> None:
        """Remember the language a customer picked, for every channel and later sessions."""
        await self._upsert(phone, locale=locale)

    async def set_opted_out(self, phone: Phone, opted_out: bool, *, by: str | None = None) -> None:
        """STOP / START: whether the customer receives notifications they did not ask for;
        `by`: the provider that stopped messaging her too (its own opt-out keyword)."""
        await self._upsert(phone, opted_out=opted_out, opted_out_by=by if opted_out else None)

    async def set_delivery_point(self, phone: Phone, where: DeliveryPoint) -> None:
        """Where this customer's orders are delivered from now on (routes need a point)."""
        await self._upsert(
            phone,
            address=" ".join(where.address.split()),
            lat=where.point.lat,
            lon=where.point.lon,
        )

    async def delivery_points(self, phones: list[Phone]) -> dict[Phone, DeliveryPoint]:
        """The known delivery points of these customers (those without one are absent)."""
        if not phones:
            return {}
        async with self._db.transaction() as s:
            rows = await s.execute(
                select(customers.c.phone, customers.c.address, customers.c.lat, customers.c.lon)
                .where(customers.c.phone.in_(sorted({p.e164 for p in phones})))
                .where(customers.c.lat.is_not(None), customers.c.lon.is_not(None))
            )
            return {
                Phone(r.phone): DeliveryPoint(r.address or r.phone, GeoPoint(r.lat, r.lon))
                for r in rows
            }

    async def forget(self, phone: Phone) -> None:
        """Drop what is cached of `phone`'s customer: her record changed outside this service
        (moved to a new number)."""
        await self._cache.forget(f"customer:{phone.e164}")

    async def _upsert(self, phone: Phone, **values: object) -> None:
        key = f"customer:{phone.e164}"
        await self._cache.forget(key)
        async with self._db.transaction() as s:
            insert_of = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
            stmt = insert_of(customers).values(
                phone=phone.e164,
                region=region_for_phone(phone).code.value,
                created_at=self._clock.now(),
                **values,
            )
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[customers.c.phone],
                    set_={name: stmt.excluded[name] for name in values},
                )
            )
        await self._cache.forget(key)
