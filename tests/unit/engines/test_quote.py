"""The quote: tiers, the best promotion per line, VAT once on the discounted subtotal, half-up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import Money, round_half_up
from core.region import REGIONS, Region, RegionCode
from engines.pricing import (
    EmptyCartError,
    InvalidQuantityError,
    NoPriceError,
    PriceEntry,
    PriceTier,
    Promotion,
    Quote,
    QuoteItem,
    quote,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LAGOS = REGIONS[RegionCode.LAGOS]
NAIROBI = REGIONS[RegionCode.NAIROBI]
CAPE_TOWN = REGIONS[RegionCode.CAPE_TOWN]


def entry(sku: str, price: str, currency: str = "NGN", *tiers: tuple[int, str]) -> PriceEntry:
    return PriceEntry(
        sku, currency, Decimal(price), tuple(PriceTier(q, Decimal(p)) for q, p in tiers)
    )


def promo(
    promo_id: str,
    percent: str,
    *,
    sku: str | None = None,
    category: str | None = None,
    min_quantity: int = 1,
    starts_at: datetime = NOW - timedelta(days=1),
    ends_at: datetime = NOW + timedelta(days=7),
) -> Promotion:
    return Promotion(
        id=promo_id,
        names={"en": promo_id},
        percent_off=Decimal(percent),
        starts_at=starts_at,
        ends_at=ends_at,
        sku=sku,
        category_id=category,
        min_quantity=min_quantity,
    )


def item(sku: str, quantity: int, category: str = "noodles") -> QuoteItem:
    return QuoteItem(sku, sku.title(), category, quantity)


def quote_in(
    market: Region,
    items: Sequence[QuoteItem],
    prices: Sequence[PriceEntry],
    promotions: Sequence[Promotion] = (),
    now: datetime = NOW,
) -> Quote:
    return quote(
        items,
        {p.sku: p for p in prices},
        promotions,
        currency=market.currency,
        vat_rate=market.vat_rate,
        now=now,
    )


def ngn(amount: str) -> Money:
    return Money(Decimal(amount), "NGN")


def test_ngozi_noodle_week_checkout_matches_the_screen() -> None:
    result = quote_in(
        LAGOS,
        [item("indomie", 3)],
        [entry("indomie", "9300")],
        [promo("NOODLE-WEEK", "10", category="noodles", min_quantity=3)],
    )

    assert result.subtotal == ngn("27900")
    assert result.discount == ngn("2790")
    assert result.tax == ngn("1883.25")
    assert result.total == ngn("26993.25")
    assert result.lines[0].promotion is not None
    assert result.lines[0].promotion.id == "NOODLE-WEEK"
    assert result.lines[0].net == ngn("25110")


@pytest.mark.parametrize(
    ("quantity", "unit_price", "tier_from"),
    [(1, "1000", None), (9, "1000", None), (10, "970", 10), (49, "970", 10), (50, "940", 50)],
)
def test_tier_price_applies_from_its_minimum_quantity(
    quantity: int, unit_price: str, tier_from: int | None
) -> None:
    prices = [entry("rice", "1000", "NGN", (50, "940"), (10, "970"))]  # tiers in any order

    line = quote_in(LAGOS, [item("rice", quantity, "rice")], prices).lines[0]

    assert line.unit_price == ngn(unit_price)
    assert line.list_unit_price == ngn("1000")
    assert line.line_total == ngn(unit_price) * quantity
    assert (line.tier.min_quantity if line.tier else None) == tier_from


@pytest.mark.parametrize(("quantity", "discounted"), [(2, False), (3, True), (12, True)])
def test_promotion_needs_its_minimum_quantity(quantity: int, discounted: bool) -> None:
    result = quote_in(
        LAGOS,
        [item("indomie", quantity)],
        [entry("indomie", "100")],
        [promo("NOODLE-WEEK", "10", category="noodles", min_quantity=3)],
    )

    assert result.discount == (ngn("10") * quantity if discounted else Money.zero("NGN"))


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "live"),
    [
        (NOW, NOW + timedelta(hours=1), True),  # starts now: live
        (NOW - timedelta(days=1), NOW + timedelta(seconds=1), True),
        (NOW - timedelta(days=1), NOW, False),  # ends now: over
        (NOW + timedelta(seconds=1), NOW + timedelta(days=1), False),  # not started
        (NOW - timedelta(days=9), NOW - timedelta(days=2), False),  # long over
    ],
)
def test_promotion_applies_only_inside_its_time_window(
    starts_at: datetime, ends_at: datetime, live: bool
) -> None:
    window = promo("WEEK", "10", sku="indomie", starts_at=starts_at, ends_at=ends_at)

    result = quote_in(LAGOS, [item("indomie", 1)], [entry("indomie", "100")], [window])

    assert result.discount == (ngn("10") if live else Money.zero("NGN"))
    assert (result.lines[0].promotion is not None) is live


def test_the_best_single_promotion_per_line_wins_and_promotions_never_stack() -> None:
    promotions = [
        promo("A-SKU", "5", sku="indomie"),
        promo("B-CATEGORY", "10", category="noodles"),
        promo("C-OTHER-CATEGORY", "50", category="rice"),
        promo("D-OTHER-SKU", "40", sku="spaghetti"),
    ]

    result = quote_in(LAGOS, [item("indomie", 2)], [entry("indomie", "1000")], promotions)

    assert result.discount == ngn("200")
    assert result.lines[0].promotion is not None
    assert result.lines[0].promotion.id == promotions[1].id


def test_each_line_gets_its_own_best_promotion() -> None:
    promotions = [promo("NOODLES", "10", category="noodles"), promo("RICE", "20", sku="rice")]

    result = quote_in(
        LAGOS,
        [item("indomie", 1), item("rice", 1, "rice")],
        [entry("indomie", "100"), entry("rice", "1000")],
        promotions,
    )

    assert [line.discount for line in result.lines] == [ngn("10"), ngn("200")]
    assert result.discount == ngn("210")


def test_equal_promotions_resolve_to_the_lowest_id() -> None:
    promotions = [promo("ZULU", "10", sku="indomie"), promo("ALPHA", "10", category="noodles")]

    result = quote_in(LAGOS, [item("indomie", 1)], [entry("indomie", "100")], promotions)

    assert result.lines[0].promotion is not None
    assert result.lines[0].promotion.id == promotions[1].id


@pytest.mark.parametrize(
    ("market", "tax", "total"),
    [
        (LAGOS, "75.00", "1075.00"),
        (NAIROBI, "160.00", "1160.00"),
        (CAPE_TOWN, "150.00", "1150.00"),
    ],
)
def test_vat_is_the_markets_rate_in_its_currency(market: Region, tax: str, total: str) -> None:
    result = quote_in(market, [item("soap", 1, "care")], [entry("soap", "1000", market.currency)])

    assert result.currency == market.currency
    assert result.vat_rate == market.vat_rate
    assert result.tax == Money(Decimal(tax), market.currency)
    assert result.total == Money(Decimal(total), market.currency)


def test_vat_is_charged_once_on_the_discounted_subtotal() -> None:
    result = quote_in(
        LAGOS,
        [item("indomie", 1), item("soap", 1, "care")],
        [entry("indomie", "1000"), entry("soap", "1000")],
        [promo("NOODLES", "50", category="noodles")],
    )

    assert result.tax == ngn("112.50")  # 7.5 % of 1,500.00, not of 2,000.00


def test_vat_rounds_a_half_minor_unit_up() -> None:
    # 3.00 x 7.5 % = 0.225: half-up gives 0.23 (banker's rounding would give 0.22).
    result = quote_in(LAGOS, [item("gum", 1, "snacks")], [entry("gum", "3.00")])

    assert result.tax == ngn("0.23")
    assert result.total == ngn("3.23")


def test_line_discount_rounds_a_half_minor_unit_up() -> None:
    # 45.00 x 12.5 % = 5.625: half-up gives 5.63 (banker's rounding would give 5.62).
    result = quote_in(
        NAIROBI,
        [item("chai", 1, "drinks")],
        [entry("chai", "45.00", "KES")],
        [promo("CHAI", "12.5", sku="chai")],
    )

    assert result.discount == Money(Decimal("5.63"), "KES")


def test_item_count_is_the_sum_of_quantities() -> None:
    result = quote_in(
        LAGOS,
        [item("indomie", 3), item("rice", 7, "rice")],
        [entry("indomie", "100"), entry("rice", "100")],
    )

    assert result.item_count == 10
    assert [line.sku for line in result.lines] == ["indomie", "rice"]


def test_a_product_without_a_price_cannot_be_quoted() -> None:
    with pytest.raises(NoPriceError) as excinfo:
        quote_in(LAGOS, [item("indomie", 1), item("ghost", 1)], [entry("indomie", "100")])

    assert excinfo.value.sku == "ghost"


def test_a_price_in_another_currency_counts_as_no_price() -> None:
    with pytest.raises(NoPriceError) as excinfo:
        quote_in(LAGOS, [item("indomie", 1)], [entry("indomie", "100", "KES")])

    assert excinfo.value.sku == "indomie"


def test_an_empty_cart_cannot_be_quoted() -> None:
    with pytest.raises(EmptyCartError):
        quote_in(LAGOS, [], [entry("indomie", "100")])


@pytest.mark.parametrize("quantity", [0, -1, -50])
def test_a_non_positive_quantity_cannot_be_quoted(quantity: int) -> None:
    with pytest.raises(InvalidQuantityError) as excinfo:
        quote_in(LAGOS, [item("indomie", quantity)], [entry("indomie", "100")])

    assert (excinfo.value.sku, excinfo.value.quantity) == ("indomie", quantity)


@pytest.mark.parametrize("percent", ["0", "-5", "100.01"])
def test_a_promotion_must_take_off_more_than_nothing_and_at_most_everything(
    percent: str,
) -> None:
    with pytest.raises(ValueError, match="percent_off"):
        promo("BAD", percent, sku="indomie")


@pytest.mark.parametrize(("sku", "category"), [(None, None), ("indomie", "noodles")])
def test_a_promotion_targets_exactly_one_sku_or_one_category(
    sku: str | None, category: str | None
) -> None:
    with pytest.raises(ValueError, match="either"):
        promo("BAD", "10", sku=sku, category=category)


def test_a_hundred_percent_promotion_makes_the_line_free_not_negative() -> None:
    result = quote_in(
        LAGOS,
        [item("indomie", 2)],
        [entry("indomie", "99.99")],
        [promo("FREE", "100", sku="indomie")],
    )

    assert result.total == Money.zero("NGN")
    assert result.lines[0].net == Money.zero("NGN")


# --- properties ---------------------------------------------------------------------------

SKUS = ("indomie", "spaghetti", "rice", "soap", "cola")
CATEGORIES = ("noodles", "rice", "care")
minor_units = st.integers(min_value=0, max_value=5_000_000)
percents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)


@st.composite
def carts(draw: st.DrawFn) -> tuple[Region, list[QuoteItem], list[PriceEntry], list[Promotion]]:
    market = draw(st.sampled_from(list(REGIONS.values())))
    places = 2  # NGN, KES and ZAR all have cents
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=len(SKUS), unique=True))
    items, prices = [], []
    for sku in skus:
        items.append(
            QuoteItem(sku, sku, draw(st.sampled_from(CATEGORIES)), draw(st.integers(1, 9_999)))
        )
        tiers = draw(
            st.lists(
                st.tuples(st.integers(2, 100), minor_units), max_size=3, unique_by=lambda t: t[0]
            )
        )
        prices.append(
            PriceEntry(
                sku,
                market.currency,
                Decimal(draw(minor_units)).scaleb(-places),
                tuple(PriceTier(q, Decimal(p).scaleb(-places)) for q, p in tiers),
            )
        )
    promotions = []
    for n in range(draw(st.integers(0, 4))):
        by_sku = draw(st.booleans())
        start = NOW + timedelta(hours=draw(st.integers(-48, 2)))
        promotions.append(
            Promotion(
                id=f"P{n}",
                names={"en": f"P{n}"},
                percent_off=draw(percents),
                starts_at=start,
                ends_at=start + timedelta(hours=draw(st.integers(1, 96))),
                sku=draw(st.sampled_from(SKUS)) if by_sku else None,
                category_id=None if by_sku else draw(st.sampled_from(CATEGORIES)),
                min_quantity=draw(st.integers(1, 20)),
            )
        )
    return market, items, prices, promotions


@settings(max_examples=150)
@given(carts())
def test_quote_arithmetic_holds_for_any_cart(
    cart: tuple[Region, list[QuoteItem], list[PriceEntry], list[Promotion]],
) -> None:
    market, items, prices, promotions = cart

    result = quote_in(market, items, prices, promotions)

    currency = market.currency
    assert result.total == result.subtotal - result.discount + result.tax
    assert not result.total.is_negative
    assert result.tax == Money(
        round_half_up((result.subtotal - result.discount).amount * market.vat_rate, currency),
        currency,
    )
    assert result.subtotal == sum((line.line_total for line in result.lines), Money.zero(currency))
    assert result.discount == sum((line.discount for line in result.lines), Money.zero(currency))
    monies = [result.subtotal, result.discount, result.tax, result.total]
    for line in result.lines:
        monies += [line.list_unit_price, line.unit_price, line.line_total, line.discount, line.net]
        assert Money.zero(currency) <= line.discount <= line.line_total
        assert line.line_total == line.unit_price * line.quantity
    assert {money.currency for money in monies} == {currency}
    # every amount in the currency's minor unit, zero included ("0.00", never "0")
    assert {money.amount.as_tuple().exponent for money in monies} == {-2}


@settings(max_examples=150)
@given(carts())
def test_each_line_gets_the_largest_discount_any_live_promotion_offers(
    cart: tuple[Region, list[QuoteItem], list[PriceEntry], list[Promotion]],
) -> None:
    market, items, prices, promotions = cart

    result = quote_in(market, items, prices, promotions)

    for quoted, wanted in zip(result.lines, items, strict=True):
        offers = [
            round_half_up(quoted.line_total.amount * p.percent_off / 100, market.currency)
            for p in promotions
            if (p.sku == wanted.sku if p.sku else p.category_id == wanted.category_id)
            and wanted.quantity >= p.min_quantity
            and p.starts_at <= NOW < p.ends_at
        ]
        assert quoted.discount.amount == max(offers, default=Decimal(0))
        assert (quoted.promotion is None) == (quoted.discount.amount == 0)
