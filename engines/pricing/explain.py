"""A quote in words: why each line costs what it does, for the customer or a support agent.

The words come from the message catalogues (`locales/`) through the `translate` callable the
caller passes (a dialog's `turn.t`), so the engine decides and the catalogue speaks.
"""

from __future__ import annotations

from typing import Protocol

from engines.pricing.model import PriceSource, PromotionKind, TaxClass
from engines.pricing.quote import Quote, QuoteLine


class Translate(Protocol):
    def __call__(self, msgid: str, /, **values: object) -> str: ...


def explain_line(line: QuoteLine, t: Translate, locale: str) -> str:
    """One sentence per line: source, tier, each promotion and its saving, the VAT class."""
    parts = [
        t(
            f"explain.source.{line.price_source.value}",
            quantity=line.quantity,
            name=line.name,
            price=line.unit_price.format(),
            contract=line.contract_id or "",
        )
    ]
    if line.tier is not None and line.price_source is not PriceSource.CONTRACT:
        parts.append(t("explain.tier", min=line.tier.min_quantity))
    for applied in line.promotions:
        if applied.kind is PromotionKind.BUY_X_GET_Y:
            parts.append(
                t(
                    "explain.free_units",
                    name=applied.name(locale),
                    free=applied.free_units,
                    amount=applied.discount.format(),
                )
            )
        else:
            parts.append(
                t("explain.promotion", name=applied.name(locale), amount=applied.discount.format())
            )
    if line.tax_class is not TaxClass.STANDARD:
        parts.append(t(f"explain.vat.{line.tax_class.value}"))
    return "; ".join(parts)


def explain_quote(q: Quote, t: Translate, locale: str) -> list[str]:
    """Every line's explanation, then delivery."""
    out = [explain_line(line, t, locale) for line in q.lines]
    if q.delivery_fee is not None and q.delivery_fee.amount > 0:
        if q.delivery_promotion is not None:
            out.append(
                t(
                    "explain.free_delivery",
                    name=q.delivery_promotion.name(locale),
                    amount=q.delivery_promotion.discount.format(),
                )
            )
        else:
            out.append(t("explain.delivery", amount=q.delivery_fee.format()))
    return out
