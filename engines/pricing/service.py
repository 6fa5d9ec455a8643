"""Pricing use case: quote a cart for a customer in a region, the same way for every channel.

A region's price lists, promotions and zones are kept in memory for a short while
(`book_ttl_seconds`), and so are a customer's terms (segment, zone, contracts); promotion
usage (per-customer limits, budgets) is read fresh for every quote that could hit a limit.
Placing an order prices through the same path, so the total placed is the total quoted.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator, RandomIds
from core.money import Money
from core.phone import Phone
from core.region import RegionCode, region
from engines.catalogue import CatalogueService, UnknownProductError
from engines.pricing.locks import PriceLock
from engines.pricing.model import (
    ContractPrice,
    CustomerTerms,
    DeliveryZone,
    PriceEntry,
    Promotion,
    PromotionKind,
    QuoteItem,
    UnknownPriceLockError,
    normalise_code,
)
from engines.pricing.quote import Quote, quote
from engines.pricing.repository import SqlPriceRepository, contracts_of, customer_terms_of

DEFAULT_LOCK_MINUTES = 15


@dataclass(frozen=True, slots=True)
class PriceBook:
    prices: dict[str, PriceEntry]
    promotions: tuple[Promotion, ...]
    segments: dict[str, dict[str, PriceEntry]] = field(default_factory=dict)
    zones: dict[str, DeliveryZone] = field(default_factory=dict)

    def limited(self, voucher: str | None, *, zone: bool) -> tuple[str, ...]:
        """Promotions whose usage must be read before this quote (limits or budgets).

        A promo code's only when that code is entered, free delivery's only for a customer who
        pays delivery: most quotes read no usage at all.
        """
        code = normalise_code(voucher) if voucher else None
        return tuple(
            p.id
            for p in self.promotions
            if (p.per_customer_limit is not None or p.budget is not None)
            and (p.code is None or p.code == code)
            and (zone or p.kind is not PromotionKind.FREE_DELIVERY)
        )


@dataclass(frozen=True, slots=True)
class _Terms:
    segment: str | None
    zone_id: str | None
    contracts: dict[str, ContractPrice]


class PricingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: CatalogueService,
        *,
        book_ttl_seconds: float = 30.0,
        ids: IdGenerator | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._catalogue = catalogue
        self._ids: IdGenerator = ids or RandomIds()
        self._books: TTLCache[RegionCode, PriceBook] = TTLCache(
            maxsize=64, ttl=book_ttl_seconds, timer=clock.monotonic
        )
        self._loading: dict[RegionCode, asyncio.Future[PriceBook]] = {}
        self._terms: TTLCache[tuple[RegionCode, str], _Terms] = TTLCache(
            maxsize=10_000, ttl=book_ttl_seconds, timer=clock.monotonic
        )

    async def book(self, region_code: RegionCode) -> PriceBook:
        book = self._books.get(region_code)
        if book is None:
            # When the book expires, every turn in flight wants it at once: one reads it.
            loading = self._loading.get(region_code)
            if loading is None:
                loading = asyncio.ensure_future(self._load_book(region_code))
                self._loading[region_code] = loading
                loading.add_done_callback(
                    lambda done: (
                        self._loading.pop(region_code)
                        if self._loading.get(region_code) is done
                        else None
                    )
                )
            book = await asyncio.shield(loading)
        return book

    async def _load_book(self, region_code: RegionCode) -> PriceBook:
        async with self._db.transaction() as s:
            repo = SqlPriceRepository(s)
            book = PriceBook(
                await repo.all_prices(region_code),
                tuple(await repo.promotions(region_code)),
                await repo.segment_prices(region_code),
                await repo.zones(region_code),
            )
        self._books[region_code] = book
        return book

    def forget(self) -> None:
        self._books.clear()
        self._loading.clear()
        self._terms.clear()

    def forget_customer(self, customer: Phone) -> None:
        """Drop what is cached of `customer`'s terms in every region: they changed outside this
        service (she moved to a new number, and her contract prices with her)."""
        for key in [k for k in self._terms if k[1] == customer.e164]:
            self._terms.pop(key, None)

    async def list_prices(
        self, region_code: RegionCode, skus: Sequence[str], *, customer: Phone | None = None
    ) -> dict[str, Money]:
        """The price per unit for browsing: the customer's own (contract, then segment) where
        they have one, else the list price; tiers and promotions show in the quote."""
        book = await self.book(region_code)
        prices = book.prices
        contracts: dict[str, ContractPrice] = {}
        segment: dict[str, PriceEntry] = {}
        if customer is not None:
            terms = await self.terms(region_code, customer, book)
            contracts = dict(terms.contracts)
            segment = book.segments.get(terms.segment or "", {})
        now = self._clock.now()
        found: dict[str, Money] = {}
        for sku in skus:
            entry = prices.get(sku)
            if entry is None:
                continue
            contract = contracts.get(sku)
            if contract is not None and contract.valid_at(now):
                found[sku] = Money(contract.unit_price, entry.currency)
            else:
                found[sku] = Money(segment.get(sku, entry).unit_price, entry.currency)
        return found

    async def terms(
        self,
        region_code: RegionCode,
        customer: Phone | None,
        book: PriceBook | None = None,
        *,
        voucher: str | None = None,
    ) -> CustomerTerms:
        """What the quote needs to know of this customer, usage included."""
        if customer is None:
            return CustomerTerms()
        book = book or await self.book(region_code)
        key = (region_code, customer.e164)
        cached = self._terms.get(key)
        now = self._clock.now()
        if cached is not None and all(c.valid_at(now) for c in cached.contracts.values()):
            terms, usage = cached, None
        else:
            terms, usage = None, None
        if terms is None:
            segment, zone_id = await customer_terms_of(self._db, customer.e164)
            contracts = await contracts_of(self._db, region_code, customer.e164, now)
            terms = _Terms(segment, zone_id, contracts)
            self._terms[key] = terms
        limited = book.limited(voucher, zone=terms.zone_id is not None)
        if limited:
            async with self._db.transaction() as s:
                usage = await SqlPriceRepository(s).usage(customer.e164, limited)
        return CustomerTerms(
            customer=customer.e164,
            segment=terms.segment,
            zone=book.zones.get(terms.zone_id) if terms.zone_id else None,
            contracts=terms.contracts,
            usage=usage or {},
        )

    async def quote(
        self,
        region_code: RegionCode,
        lines: Sequence[tuple[str, int]],
        *,
        customer: Phone | None = None,
        voucher: str | None = None,
    ) -> Quote:
        """The quote every channel shows; `customer` brings their prices, zone and limits."""
        book = await self.book(region_code)
        items = []
        for sku, quantity in lines:
            product = await self._catalogue.product(region_code, sku)
            items.append(QuoteItem(sku, product.name, product.category_id, quantity))
        terms = await self.terms(region_code, customer, book, voucher=voucher)
        market = region(region_code)
        return quote(
            items,
            book.prices,
            book.promotions,
            currency=market.currency,
            vat_rate=market.vat_rate,
            now=self._clock.now(),
            segment_prices=book.segments.get(terms.segment) if terms.segment else None,
            terms=terms,
            voucher=voucher or None,
        )

    async def lock(
        self,
        region_code: RegionCode,
        lines: Sequence[tuple[str, int]],
        *,
        customer: Phone,
        voucher: str | None = None,
        minutes: int = DEFAULT_LOCK_MINUTES,
        quoted: Quote | None = None,
        reuse: bool = False,
    ) -> PriceLock:
        """Quote and keep that quote for `minutes`: an order placed with the lock pays it.

        `quoted` is the quote of these lines the customer was just shown (by `quote`), kept as
        it is: quoting again could hold another total than the one on her screen. `reuse`
        gives back her live, unused lock that holds this very quote (same lines, code and
        prices) and that a reusing call made, instead of a new one: an app asking for the same
        quote again makes no new row, and never takes a checkout's lock from its order.
        """
        if minutes <= 0:
            raise ValueError("a price lock lasts at least one minute")
        priced = quoted or await self.quote(region_code, lines, customer=customer, voucher=voucher)
        now = self._clock.now()
        held = PriceLock(
            id=self._ids.uuid(),
            customer=customer.e164,
            region=region_code.value,
            lines=tuple((sku, qty) for sku, qty in lines),
            voucher=priced.voucher,
            quote=priced,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        async with self._db.transaction() as s:
            repository = SqlPriceRepository(s)
            if reuse:
                found = await repository.held_lock(held, now)
                if found is not None:
                    return found
            await repository.add_lock(held, reusable=reuse)
        return held

    async def locked(self, lock_id: uuid.UUID | str) -> PriceLock:
        key = lock_id if isinstance(lock_id, uuid.UUID) else _parse_lock_id(lock_id)
        async with self._db.transaction() as s:
            found = await SqlPriceRepository(s).lock(key)
        if found is None:
            raise UnknownPriceLockError(str(lock_id))
        return found

    async def use_lock(
        self, session: AsyncSession, lock_id: uuid.UUID, order_id: uuid.UUID
    ) -> None:
        """Inside the order's transaction: the lock's price goes to this order only."""
        await SqlPriceRepository(session).use_lock(lock_id, order_id)

    async def limits(self, region_code: RegionCode) -> dict[str, tuple[int | None, Decimal | None]]:
        """Each promotion's per-customer limit and budget; read before the order's transaction."""
        book = await self.book(region_code)
        return {p.id: (p.per_customer_limit, p.budget) for p in book.promotions}

    async def record_use(
        self,
        session: AsyncSession,
        priced: Quote,
        limits: dict[str, tuple[int | None, Decimal | None]],
        order_id: uuid.UUID,
    ) -> None:
        """Inside the order's transaction: count the customer's uses and spend the budgets."""
        spend = priced.spend()
        if not spend or priced.customer is None:
            return
        await SqlPriceRepository(session).record_use(priced.customer, spend, limits, order_id)

    async def give_back(self, session: AsyncSession, order_id: uuid.UUID) -> None:
        """Inside a cancellation's transaction: the order's uses and spend are free again."""
        await SqlPriceRepository(session).give_back(order_id)


def _parse_lock_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise UnknownPriceLockError(raw) from None


__all__ = ["PriceBook", "PricingService", "UnknownProductError"]
