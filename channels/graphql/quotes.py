"""The pricing context over GraphQL: the same quote every channel gets, explained per line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import strawberry

from channels.graphql.auth import may_act_for
from channels.graphql.context import GraphQLContext
from channels.graphql.customers import BadCustomerError, customer_of
from channels.graphql.errors import (
    InvalidCart,
    InvalidCustomer,
    InvalidQuantity,
    InvalidVoucher,
    QuoteError,
    UnknownProduct,
)
from channels.graphql.scalars import MoneyType
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue import UnknownProductError
from engines.orders import MAX_LINE_QUANTITY
from engines.pricing import EmptyCartError, InvalidQuantityError, InvalidVoucherError, NoPriceError
from engines.pricing import Quote as QuoteModel

Info = strawberry.Info[GraphQLContext, None]

MAX_LINES = 100


@strawberry.input
class LineInput:
    sku: str
    quantity: int


@strawberry.input
class QuoteInput:
    customer: str = strawberry.field(description="The customer's E.164 phone number")
    lines: list[LineInput]
    promo_code: str | None = None


@strawberry.type(description="The promotion that priced a line")
class AppliedPromotion:
    id: str
    name: str


@strawberry.type(description="One cart line, with the price, tier and promotion that applied")
class QuoteLine:
    sku: str
    name: str
    quantity: int
    list_unit_price: MoneyType
    unit_price: MoneyType
    tier_min_quantity: int | None = strawberry.field(
        description="The quantity tier that set the unit price (null: the list price)"
    )
    line_total: MoneyType = strawberry.field(
        description="quantity x unit price, before the discount (the lines add up to subtotal)"
    )
    discount: MoneyType
    promotion: AppliedPromotion | None
    net: MoneyType = strawberry.field(description="lineTotal less the discount")


@strawberry.type(description="A discount on the quote, and the promotion it came from")
class Discount:
    sku: str
    promotion: AppliedPromotion
    amount: MoneyType


@strawberry.type(
    description="This quote's prices held for the customer: placeOrder with `priceLock: id` "
    "before `expiresAt` is charged exactly this total, whatever the prices do meanwhile"
)
class PriceLock:
    id: strawberry.ID
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class _Lockable:
    """What `priceLock` keeps: the customer's own quote of these lines, as shown."""

    region: RegionCode
    customer: Phone
    lines: tuple[tuple[str, int], ...]
    voucher: str | None
    quote: QuoteModel


@strawberry.type(
    description="A quote; on an expected failure `errors` says why and totals are null"
)
class Quote:
    lines: list[QuoteLine]
    discounts: list[Discount]
    subtotal: MoneyType | None
    discount: MoneyType | None
    delivery: MoneyType | None = strawberry.field(
        description="The delivery fee charged (after free delivery); VAT includes its share"
    )
    vat_rate: str | None
    tax: MoneyType | None
    total: MoneyType | None
    errors: list[QuoteError]
    lockable: strawberry.Private[_Lockable | None] = None

    @strawberry.field(
        description="Hold these prices for the customer (15 minutes, as the USSD checkout "
        "does) and pass the id to placeOrder: asked for, the quote is kept. Only the "
        "customer's own quote (her token or staff's) can be held; null otherwise"
    )
    async def price_lock(self, info: Info) -> PriceLock | None:
        held = self.lockable
        if held is None:
            return None
        lock = await info.context.services.pricing.lock(
            held.region,
            held.lines,
            customer=held.customer,
            voucher=held.voucher,
            quoted=held.quote,
            reuse=True,  # the same quote asked again holds the same lock: no row per query
        )
        return PriceLock(id=strawberry.ID(str(lock.id)), expires_at=lock.expires_at)

    @classmethod
    def failed(cls, *errors: QuoteError) -> Quote:
        return cls(
            lines=[],
            discounts=[],
            subtotal=None,
            discount=None,
            delivery=None,
            vat_rate=None,
            tax=None,
            total=None,
            errors=list(errors),
        )

    @classmethod
    def of(cls, quote: QuoteModel, locale: str) -> Quote:
        lines = []
        discounts: list[Discount] = []
        for line in quote.lines:
            applied = [AppliedPromotion(id=p.id, name=p.name(locale)) for p in line.promotions]
            promo = applied[0] if applied else None
            lines.append(
                QuoteLine(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    list_unit_price=MoneyType.of(line.list_unit_price),
                    unit_price=MoneyType.of(line.unit_price),
                    tier_min_quantity=line.tier.min_quantity if line.tier else None,
                    line_total=MoneyType.of(line.line_total),
                    discount=MoneyType.of(line.discount),
                    promotion=promo,
                    net=MoneyType.of(line.net),
                )
            )
            # One entry per promotion with its own saving: stacked ones (a promo code on top
            # of the week's offer) each show, as the USSD quote shows them.
            discounts.extend(
                Discount(sku=line.sku, promotion=promotion, amount=MoneyType.of(p.discount))
                for promotion, p in zip(applied, line.promotions, strict=True)
            )
        return cls(
            lines=lines,
            discounts=discounts,
            subtotal=MoneyType.of(quote.subtotal),
            discount=MoneyType.of(quote.discount),
            delivery=MoneyType.of(quote.delivery),
            vat_rate=str(quote.vat_rate),
            tax=MoneyType.of(quote.tax),
            total=MoneyType.of(quote.total),
            errors=[],
        )


def check_lines(lines: list[LineInput]) -> QuoteError | None:
    """The cart's shape, checked at the edge before any engine sees it."""
    if not lines:
        return InvalidCart(message="a cart needs at least one line")
    if len(lines) > MAX_LINES:
        return InvalidCart(message=f"at most {MAX_LINES} lines")
    if len({line.sku for line in lines}) != len(lines):
        return InvalidCart(message="each sku once per cart")
    for line in lines:
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            return InvalidQuantity(
                message=f"quantity must be 1 to {MAX_LINE_QUANTITY}",
                sku=line.sku,
                quantity=line.quantity,
            )
    return None


def promo_code(code: str | None) -> str | None:
    """The promo code as the pricing engine takes it: trimmed, None when blank."""
    if code is None or not code.strip():
        return None
    return code.strip()[:40]


def invalid_voucher(exc: InvalidVoucherError) -> InvalidVoucher:
    return InvalidVoucher(
        message=f"promo code {exc.code} is not valid: {exc.problem.value.replace('_', ' ')}",
        code=exc.code,
    )


@strawberry.type
class PricingQuery:
    @strawberry.field(description="Price a cart for a customer, exactly as USSD and SMS do")
    async def quote(self, info: Info, input: QuoteInput) -> Quote:
        try:
            _phone, market = customer_of(input.customer)
        except BadCustomerError as exc:
            return Quote.failed(InvalidCustomer(message=str(exc), customer=input.customer))
        problem = check_lines(input.lines)
        if problem is not None:
            return Quote.failed(problem)
        # Her own prices, zone and limits (one price on every channel) only for her or staff:
        # anyone else who knows her number gets the public price list, as a new customer would.
        principal = info.context.principal
        own = principal is not None and may_act_for(principal, _phone.e164)
        try:
            quote = await info.context.services.pricing.quote(
                market.code,
                [(line.sku, line.quantity) for line in input.lines],
                customer=_phone if own else None,
                voucher=promo_code(input.promo_code),
            )
        except InvalidVoucherError as exc:
            return Quote.failed(invalid_voucher(exc))
        except (UnknownProductError, NoPriceError) as exc:
            return Quote.failed(UnknownProduct(message=f"no product {exc.sku}", sku=exc.sku))
        except InvalidQuantityError as exc:
            return Quote.failed(
                InvalidQuantity(message="invalid quantity", sku=exc.sku, quantity=exc.quantity)
            )
        except EmptyCartError:
            return Quote.failed(InvalidCart(message="a cart needs at least one line"))
        # Promotion names in the language the customer chose on any channel (`me { locale }`).
        found = await info.context.services.customers.get(_phone)
        shown = Quote.of(quote, (found.locale if found else None) or market.default_locale)
        if own:  # the public price list is nobody's to hold
            shown.lockable = _Lockable(
                region=market.code,
                customer=_phone,
                lines=tuple((line.sku, line.quantity) for line in input.lines),
                voucher=quote.voucher,
                quote=quote,
            )
        return shown
