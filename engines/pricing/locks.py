"""Price locks: a quote kept for a while, so the order placed from it gets exactly that price.

The quote is stored as a plain JSON document (amounts as decimal strings, never floats) and read
back into the same `Quote`, explanations included.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.money import Money
from engines.pricing.model import (
    PriceLockExpiredError,
    PriceLockMismatchError,
    PriceLockUsedError,
    PriceSource,
    PriceTier,
    PromotionKind,
    TaxClass,
)
from engines.pricing.quote import AppliedPromotion, Quote, QuoteLine


@dataclass(frozen=True, slots=True)
class PriceLock:
    id: uuid.UUID
    customer: str
    region: str
    lines: tuple[tuple[str, int], ...]
    voucher: str | None
    quote: Quote
    created_at: datetime
    expires_at: datetime
    order_id: uuid.UUID | None = None  # the one order placed at this price

    def check(self, customer: str, lines: Sequence[tuple[str, int]], now: datetime) -> Quote:
        """The locked quote for a new order, or why it cannot be used."""
        if now >= self.expires_at:
            raise PriceLockExpiredError(str(self.id), self.expires_at)
        if customer != self.customer or sorted(lines) != sorted(self.lines):
            raise PriceLockMismatchError(str(self.id))
        if self.order_id is not None:
            raise PriceLockUsedError(str(self.id))
        return self.quote


def _m(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


def _applied_doc(a: AppliedPromotion) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "names": dict(a.names),
        "discount": str(a.discount_amount),
        "priority": a.priority,
        "exclusive": a.exclusive,
        "code": a.code,
        "free_units": a.free_units,
    }


def line_doc(line: QuoteLine) -> dict[str, Any]:
    """A line's explanation as data: stored with order lines, so support sees why later."""
    return {
        "source": line.price_source.value,
        "contract": line.contract_id,
        "list_unit_price": str(line.list_unit_price.amount),
        "tier": None
        if line.tier is None
        else {"min_quantity": line.tier.min_quantity, "unit_price": str(line.tier.unit_price)},
        "tax_class": line.tax_class.value,
        "promotions": [_applied_doc(a) for a in line.promotions],
    }


def quote_to_doc(q: Quote) -> dict[str, Any]:
    return {
        "currency": q.currency,
        "vat_rate": str(q.vat_rate),
        "subtotal": _m(q.subtotal),
        "discount": _m(q.discount),
        "tax": _m(q.tax),
        "total": _m(q.total),
        "delivery_fee": _m(q.delivery_fee),
        "delivery_discount": _m(q.delivery_discount),
        "delivery_promotion": None
        if q.delivery_promotion is None
        else _applied_doc(q.delivery_promotion),
        "zone": q.zone_id,
        "voucher": q.voucher,
        "customer": q.customer,
        "segment": q.segment,
        "standard_base": _m(q.standard_base),
        "zero_rated_base": _m(q.zero_rated_base),
        "exempt_base": _m(q.exempt_base),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price.amount),
                "line_total": str(line.line_total.amount),
                "discount": str(line.discount.amount),
                **line_doc(line),
            }
            for line in q.lines
        ],
    }


def _applied(doc: Mapping[str, Any], currency: str) -> AppliedPromotion:
    return AppliedPromotion(
        id=doc["id"],
        kind=PromotionKind(doc["kind"]),
        names=dict(doc["names"]),
        discount_amount=Money(Decimal(doc["discount"]), currency).amount,
        currency=currency,
        priority=int(doc["priority"]),
        exclusive=bool(doc["exclusive"]),
        code=doc.get("code"),
        free_units=int(doc.get("free_units", 0)),
    )


def quote_from_doc(doc: Mapping[str, Any]) -> Quote:
    cur = str(doc["currency"])

    def money(value: str | None) -> Money | None:
        return None if value is None else Money(Decimal(value), cur)

    def must(value: str) -> Money:
        return Money(Decimal(value), cur)

    lines = tuple(
        QuoteLine(
            sku=ln["sku"],
            name=ln["name"],
            quantity=int(ln["quantity"]),
            currency=cur,
            list_unit_amount=must(ln["list_unit_price"]).amount,
            unit_amount=must(ln["unit_price"]).amount,
            tier=None
            if ln["tier"] is None
            else PriceTier(int(ln["tier"]["min_quantity"]), Decimal(ln["tier"]["unit_price"])),
            total_amount=must(ln["line_total"]).amount,
            discount_amount=must(ln["discount"]).amount,
            promotions=tuple(_applied(a, cur) for a in ln["promotions"]),
            price_source=PriceSource(ln["source"]),
            contract_id=ln["contract"],
            tax_class=TaxClass(ln["tax_class"]),
        )
        for ln in doc["lines"]
    )
    delivery_promotion = doc.get("delivery_promotion")
    return Quote(
        currency=cur,
        lines=lines,
        subtotal=must(doc["subtotal"]),
        discount=must(doc["discount"]),
        vat_rate=Decimal(doc["vat_rate"]),
        tax=must(doc["tax"]),
        total=must(doc["total"]),
        delivery_fee=money(doc.get("delivery_fee")),
        delivery_discount=money(doc.get("delivery_discount")),
        delivery_promotion=None
        if delivery_promotion is None
        else _applied(delivery_promotion, cur),
        zone_id=doc.get("zone"),
        voucher=doc.get("voucher"),
        customer=doc.get("customer"),
        segment=doc.get("segment"),
        standard_base=money(doc.get("standard_base")),
        zero_rated_base=money(doc.get("zero_rated_base")),
        exempt_base=money(doc.get("exempt_base")),
    )
