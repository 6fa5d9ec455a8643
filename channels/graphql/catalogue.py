"""The catalogue context over GraphQL: a region's categories, and its products as a Relay
connection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import strawberry

from channels.graphql.auth import ClientError, require
from channels.graphql.context import GraphQLContext
from channels.graphql.customers import home_region
from channels.graphql.scalars import (
    BadCursorError,
    Connection,
    Edge,
    MoneyType,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_size,
)
from core.phone import Phone
from core.region import RegionCode
from core.region import region as region_of
from engines.access import STAFF_ROLES
from engines.catalogue import Product as ProductModel

Info = strawberry.Info[GraphQLContext, None]


@strawberry.type(description="A product on a region's shelf, at its list price")
class Product:
    sku: str
    name: str
    unit: str
    category: str
    region: RegionCode

    @strawberry.field(
        description="Price per unit: a signed-in customer's own (contract or segment) in their "
        "region, else the list price; tiers and promotions show in a quote"
    )
    async def price(self, info: Info) -> MoneyType | None:
        found = await info.context.loaders.price.load((self.region, self.sku))
        return None if found is None else MoneyType.of(found)

    @strawberry.field(description="Whether any unit can be ordered now")
    async def in_stock(self, info: Info) -> bool:
        return await info.context.loaders.available.load((self.region, self.sku)) > 0

    @strawberry.field(description="Units available in the region's warehouse (staff only)")
    async def stock(self, info: Info) -> int:
        require(info.context.principal, *STAFF_ROLES)
        return await info.context.loaders.available.load((self.region, self.sku))

    @classmethod
    def of(cls, product: ProductModel) -> Product:
        return cls(
            sku=product.sku,
            name=product.name,
            unit=product.unit,
            category=product.category_id,
            region=product.region,
        )


@strawberry.type(description="A shelf of a region's catalogue, as the USSD menu lists it")
class Category:
    id: str = strawberry.field(description="What `products(category:)` takes")
    name: str = strawberry.field(
        description="In the caller's language: the one they chose, else their region's"
    )
    region: RegionCode
    product_count: int = strawberry.field(description="How many products it lists")


def _shelf_region(info: Info, region: RegionCode | None) -> RegionCode:
    """The region asked for, else the signed-in caller's own, else Lagos."""
    if region is not None:
        return region
    return getattr(home_region(info.context.principal), "code", RegionCode.LAGOS)


async def _locale(info: Info, shelf: RegionCode) -> str:
    """The language USSD speaks to the caller: the one they chose, else their phone's region's;
    without a phone (anonymous, staff), the language of the region browsed."""
    principal = info.context.principal
    home = home_region(principal)
    if principal is None or home is None:
        return region_of(shelf).default_locale
    found = await info.context.services.customers.get(Phone.parse(principal.subject))
    return (found.locale if found else None) or home.default_locale


async def _on_sale(
    info: Info, code: RegionCode, shelved: Iterable[ProductModel]
) -> list[ProductModel]:
    """The shelf's products sold in the region, as the USSD lists show them: one without a
    price there (withdrawn) is not listed, as no quote or order can take it."""
    found = list(shelved)
    priced = await info.context.services.pricing.list_prices(code, [p.sku for p in found])
    return [p for p in found if p.sku in priced]


def _names_all(needles: list[str], words: Iterable[str]) -> bool:
    folded = [word.casefold() for word in words]
    return all(any(needle in word for word in folded) for needle in needles)


@strawberry.type
class CatalogueQuery:
    @strawberry.field(
        description="Categories of a region (the caller's own by default), in the order USSD "
        "lists them; each `id` filters `products(category:)`"
    )
    async def categories(self, info: Info, region: RegionCode | None = None) -> list[Category]:
        code = _shelf_region(info, region)
        shelf = await info.context.services.catalogue.shelf(code)
        locale = await _locale(info, code)
        counts = Counter(p.category_id for p in await _on_sale(info, code, shelf.products.values()))
        return [
            Category(id=c.id, name=c.name(locale), region=code, product_count=counts[c.id])
            for c in shelf.categories
        ]

    @strawberry.field(
        description="Products of a region (the caller's own by default), by name; `search` "
        "matches the name, the sku and the product's other words in the caller's language "
        'and English ("mchele", "coke")'
    )
    async def products(
        self,
        info: Info,
        *,
        first: int | None = None,
        after: str | None = None,
        category: str | None = None,
        search: str | None = None,
        region: RegionCode | None = None,
    ) -> Connection[Product]:
        code = _shelf_region(info, region)
        shelf = await info.context.services.catalogue.shelf(code)
        found = sorted(
            await _on_sale(info, code, shelf.products.values()), key=lambda p: (p.name, p.sku)
        )
        if category:
            found = [p for p in found if p.category_id == category]
        if search:
            # Each word of the search, in any order (as typed orders read them: "chicken
            # indomie", "basmati mchele"), in the name, the sku or one of its words; a part of a
            # word still finds it, as the app's search box is typed.
            needles = search.casefold().split()
            locale = await _locale(info, code)
            found = [
                p
                for p in found
                if _names_all(needles, (p.name, p.sku, *shelf.names(p.sku, locale)))
            ]
        start = 0
        if after:
            try:
                sku = decode_cursor("product", after)
            except BadCursorError:
                sku = None
            # The page goes on after the product the cursor names, by its place in the order,
            # also when it was withdrawn (no longer listed, still on the shelf) meanwhile.
            mark = shelf.products.get(sku) if sku else None
            if mark is None:
                raise ClientError("BAD_USER_INPUT", f"unknown cursor {after!r}")
            key = (mark.name, mark.sku)
            start = next((i for i, p in enumerate(found) if (p.name, p.sku) > key), len(found))
        size = page_size(first)
        page = found[start : start + size]
        edges = [Edge(cursor=encode_cursor("product", p.sku), node=Product.of(p)) for p in page]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=start + size < len(found),
                has_previous_page=start > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=len(found),
        )
