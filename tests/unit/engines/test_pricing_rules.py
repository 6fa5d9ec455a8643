"""Segment and contract prices, stacking, vouchers, limits, budgets, delivery, VAT, rounding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import Money, minor_unit
from engines.pricing import (
    ContractPrice,
    CustomerTerms,
    DeliveryZone,
    InvalidVoucherError,
    PriceEntry,
    PriceLockExpiredError,
    PriceLockMismatchError,
    PriceSource,
    PriceTier,
    Promotion,
    PromotionKind,
    PromotionUsage,
    Quote,
    QuoteItem,
    TaxClass,
    VoucherProblem,
    explain_quote,
    quote,
    quote_from_doc,
    quote_to_doc,
)
from engines.pricing.locks import PriceLock

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def entry(
    sku: str, price: str, *tiers: tuple[int, str], tax: TaxClass = TaxClass.STANDARD
) -> PriceEntry:
    return PriceEntry(
        sku, "NGN", Decimal(price), tuple(PriceTier(q, Decimal(p)) for q, p in tiers), tax
    )


def promo(promo_id: str, **kw: Any) -> Promotion:
    kw.setdefault("starts_at", NOW - WEEK)
    kw.setdefault("ends_at", NOW + WEEK)
    kw.setdefault("names", {"en": promo_id, "sw": f"{promo_id}-sw"})
    return Promotion(id=promo_id, **kw)


def item(sku: str, quantity: int, category: str = "noodles") -> QuoteItem:
    return QuoteItem(sku, sku.title(), category, quantity)


def ngn(amount: str) -> Money:
    return Money(Decimal(amount), "NGN")


def q(
    items: Sequence[QuoteItem],
    prices: Sequence[PriceEntry],
    promotions: Sequence[Promotion] = (),
    *,
    segment: Mapping[str, PriceEntry] | None = None,
    terms: CustomerTerms | None = None,
    voucher: str | None = None,
    currency: str = "NGN",
    vat: str = "0.075",
    now: datetime = NOW,
) -> Quote:
    return quote(
        items,
        {p.sku: p for p in prices},
        promotions,
        currency=currency,
        vat_rate=Decimal(vat),
        now=now,
        segment_prices=segment,
        terms=terms,
        voucher=voucher,
    )


# --- price sources ------------------------------------------------------------------------


def test_a_segment_price_list_replaces_the_list_price_with_its_own_tiers() -> None:
    wholesale = {"rice": entry("rice", "900", (10, "850"))}

    line = q([item("rice", 12, "rice")], [entry("rice", "1000", (10, "970"))], segment=wholesale)
    line_small = q([item("rice", 2, "rice")], [entry("rice", "1000")], segment=wholesale).lines[0]

    assert line.lines[0].price_source is PriceSource.SEGMENT
    assert line.lines[0].unit_price == ngn("850")
    assert line.lines[0].list_unit_price == ngn("1000")
    assert line.lines[0].tier == PriceTier(10, Decimal(850))
    assert line_small.unit_price == ngn("900")


def test_a_contract_price_wins_while_it_is_valid_and_not_after() -> None:
    contract = ContractPrice("C-7", "+2348030000001", "rice", Decimal(800), NOW - WEEK, NOW + WEEK)
    terms = CustomerTerms("+2348030000001", contracts={"rice": contract})
    prices = [entry("rice", "1000", (10, "970"))]
    segment = {"rice": entry("rice", "900")}

    during = q([item("rice", 12, "rice")], prices, segment=segment, terms=terms).lines[0]
    after = q(
        [item("rice", 12, "rice")], prices, segment=segment, terms=terms, now=NOW + WEEK
    ).lines[0]

    assert (during.price_source, during.unit_price, during.contract_id) == (
        PriceSource.CONTRACT,
        ngn("800"),
        "C-7",
    )
    assert during.tier is None  # a contract price is flat
    assert (after.price_source, after.unit_price) == (PriceSource.SEGMENT, ngn("900"))


# --- promotion kinds and stacking ---------------------------------------------------------


def test_stackable_promotions_each_take_their_share_of_what_is_left() -> None:
    promotions = [
        promo("TEN", percent_off=Decimal(10), category_id="noodles", exclusive=False, priority=2),
        promo(
            "FIFTY-OFF",
            kind=PromotionKind.FIXED,
            amount_off=Decimal(50),
            sku="indomie",
            exclusive=False,
            priority=1,
        ),
    ]

    line = q([item("indomie", 2)], [entry("indomie", "1000")], promotions).lines[0]

    # 10 % of 2,000 = 200, then 50 off the 1,800 left.
    assert [(a.id, a.discount) for a in line.promotions] == [
        ("TEN", ngn("200")),
        ("FIFTY-OFF", ngn("50")),
    ]
    assert line.net == ngn("1750")


def test_an_exclusive_promotion_with_higher_priority_stands_alone() -> None:
    promotions = [
        promo("SMALL-EXCL", percent_off=Decimal(5), sku="indomie", priority=9),
        promo("BIG-STACK", percent_off=Decimal(30), sku="indomie", exclusive=False),
    ]

    line = q([item("indomie", 1)], [entry("indomie", "1000")], promotions).lines[0]

    assert [a.id for a in line.promotions] == ["SMALL-EXCL"]
    assert line.discount == ngn("50")


def test_an_exclusive_promotion_is_skipped_once_a_line_is_discounted() -> None:
    promotions = [
        promo("STACK", percent_off=Decimal(10), sku="indomie", exclusive=False, priority=5),
        promo("EXCL", percent_off=Decimal(50), sku="indomie", priority=1),
        promo("STACK-2", percent_off=Decimal(10), sku="indomie", exclusive=False, priority=0),
    ]

    line = q([item("indomie", 1)], [entry("indomie", "1000")], promotions).lines[0]

    assert [a.id for a in line.promotions] == ["STACK", "STACK-2"]
    assert line.discount == ngn("190")


def test_buy_five_get_one_gives_every_sixth_unit_free() -> None:
    bogo = promo("B5G1", kind=PromotionKind.BUY_X_GET_Y, buy_quantity=5, get_quantity=1, sku="cola")

    line = q([item("cola", 13, "drinks")], [entry("cola", "300")], [bogo]).lines[0]

    assert line.promotions[0].free_units == 2
    assert line.discount == ngn("600")


def test_a_bundle_discount_is_shared_over_its_lines_and_adds_up_exactly() -> None:
    bundle = promo(
        "BREAKFAST",
        kind=PromotionKind.BUNDLE,
        bundle={"tea": 1, "milk": 2, "bread": 1},
        bundle_price=Decimal("1000.00"),
    )
    prices = [entry("tea", "333.33"), entry("milk", "222.22"), entry("bread", "111.11")]
    items = [item("tea", 2, "dairy"), item("milk", 5, "dairy"), item("bread", 2, "snacks")]

    result = q(items, prices, [bundle])

    # Two whole sets of 888.88 for 1,000? No: 333.33 + 2 x 222.22 + 111.11 = 888.88 < 1,000,
    # so the bundle is dearer and gives nothing; a cheaper bundle price gives the difference.
    assert result.discount == ngn("0")
    cheaper = q(
        items,
        prices,
        [
            promo(
                "B", kind=PromotionKind.BUNDLE, bundle=bundle.bundle, bundle_price=Decimal("700.00")
            )
        ],
    )
    assert cheaper.discount == ngn("377.76")  # (888.88 - 700) x 2 sets
    assert sum((ln.discount for ln in cheaper.lines), ngn("0")) == ngn("377.76")
    assert all(ln.promotions for ln in cheaper.lines)


def test_a_bundle_needs_a_whole_set() -> None:
    bundle = promo(
        "PAIR", kind=PromotionKind.BUNDLE, bundle={"tea": 1, "milk": 1}, bundle_price=Decimal(100)
    )

    result = q([item("tea", 3, "dairy")], [entry("tea", "100"), entry("milk", "100")], [bundle])

    assert result.discount == ngn("0")


# --- vouchers, limits and budgets ---------------------------------------------------------


def test_a_voucher_applies_only_with_its_code_typed_in_any_case() -> None:
    welcome = promo("WELCOME", percent_off=Decimal(5), category_id="noodles", code="welcome5")

    without = q([item("indomie", 1)], [entry("indomie", "1000")], [welcome])
    with_code = q([item("indomie", 1)], [entry("indomie", "1000")], [welcome], voucher=" Welcome5 ")

    assert without.discount == ngn("0")
    assert with_code.discount == ngn("50")
    assert with_code.voucher == "WELCOME5"
    assert with_code.lines[0].promotions[0].code == "WELCOME5"


@pytest.mark.parametrize(
    ("code", "usage", "segment", "now", "problem"),
    [
        ("NOPE", None, None, NOW, VoucherProblem.UNKNOWN),
        ("SAVE", None, None, NOW - 2 * WEEK, VoucherProblem.NOT_STARTED),
        ("SAVE", None, None, NOW + WEEK, VoucherProblem.EXPIRED),
        ("SAVE", PromotionUsage(customer_uses=1), None, NOW, VoucherProblem.USED_UP),
        ("SAVE", PromotionUsage(budget_spent=Decimal(500)), None, NOW, VoucherProblem.USED_UP),
        ("VIP", None, "retail", NOW, VoucherProblem.NOT_ELIGIBLE),
        ("RICE", None, None, NOW, VoucherProblem.NOT_APPLICABLE),
    ],
)
def test_a_refused_voucher_says_why(
    code: str,
    usage: PromotionUsage | None,
    segment: str | None,
    now: datetime,
    problem: VoucherProblem,
) -> None:
    promotions = [
        promo(
            "SAVE",
            percent_off=Decimal(5),
            sku="indomie",
            code="SAVE",
            per_customer_limit=1,
            budget=Decimal(500),
        ),
        promo(
            "VIP",
            percent_off=Decimal(5),
            sku="indomie",
            code="VIP",
            segments=frozenset({"wholesale"}),
        ),
        promo("RICE", percent_off=Decimal(5), sku="rice", code="RICE"),
    ]
    terms = CustomerTerms("+2348030000001", segment=segment, usage={code: usage} if usage else {})

    with pytest.raises(InvalidVoucherError) as refused:
        q(
            [item("indomie", 1)],
            [entry("indomie", "1000")],
            promotions,
            terms=terms,
            voucher=code.lower(),
            now=now,
        )

    assert (refused.value.code, refused.value.problem) == (code, problem)


def test_a_customer_at_their_limit_no_longer_gets_the_promotion() -> None:
    once = promo("ONCE", percent_off=Decimal(10), sku="indomie", per_customer_limit=2)
    used = CustomerTerms("+2348030000001", usage={"ONCE": PromotionUsage(customer_uses=2)})

    assert q([item("indomie", 1)], [entry("indomie", "100")], [once]).discount == ngn("10")
    assert q([item("indomie", 1)], [entry("indomie", "100")], [once], terms=used).discount == ngn(
        "0"
    )


def test_a_budget_is_never_exceeded_across_lines() -> None:
    budgeted = promo("LAUNCH", percent_off=Decimal(50), category_id="noodles", budget=Decimal(1000))
    terms = CustomerTerms(usage={"LAUNCH": PromotionUsage(budget_spent=Decimal(700))})

    result = q(
        [item("indomie", 2), item("spaghetti", 2)],
        [entry("indomie", "200"), entry("spaghetti", "500")],
        [budgeted],
        terms=terms,
    )

    assert [ln.discount for ln in result.lines] == [ngn("200"), ngn("100")]
    assert result.spend() == {"LAUNCH": Decimal(300)}


# --- delivery, VAT classes, rounding ------------------------------------------------------

ZONE = DeliveryZone("ikeja", {"en": "Ikeja"}, Decimal(1500), free_from=Decimal(100_000))


def test_delivery_is_charged_by_zone_with_vat_and_free_from_its_threshold() -> None:
    terms = CustomerTerms("+2348030000001", zone=ZONE)

    small = q([item("indomie", 1)], [entry("indomie", "1000")], terms=terms)
    big = q([item("indomie", 100)], [entry("indomie", "1000")], terms=terms)

    assert small.delivery_fee == ngn("1500")
    assert small.tax == ngn("187.50")  # 7.5 % of 1,000 + 1,500
    assert small.total == ngn("2687.50")
    assert big.delivery_fee == ngn("0")
    assert big.zone_id == "ikeja"


def test_a_free_delivery_promotion_waives_the_fee_from_its_minimum_order() -> None:
    terms = CustomerTerms("+2348030000001", zone=ZONE)
    free = promo("FREESHIP", kind=PromotionKind.FREE_DELIVERY, min_order=Decimal(2000))

    below = q([item("indomie", 1)], [entry("indomie", "1000")], [free], terms=terms)
    above = q([item("indomie", 3)], [entry("indomie", "1000")], [free], terms=terms)

    assert below.delivery_promotion is None
    assert below.delivery == ngn("1500")
    assert above.delivery_promotion is not None
    assert above.delivery_discount == ngn("1500")
    assert above.total == ngn("3225")  # 3,000 + 7.5 %, delivery waived


def test_zero_rated_and_exempt_lines_carry_no_vat() -> None:
    prices = [
        entry("soap", "1000"),
        entry("maize", "1000", tax=TaxClass.ZERO),
        entry("bread", "1000", tax=TaxClass.EXEMPT),
    ]

    result = q(
        [item("soap", 1, "care"), item("maize", 1, "rice"), item("bread", 1, "snacks")],
        prices,
        vat="0.16",
        currency="NGN",
    )

    assert result.tax == ngn("160")
    assert result.standard_base == ngn("1000")
    assert result.zero_rated_base == ngn("1000")
    assert result.exempt_base == ngn("1000")
    assert [ln.tax_class for ln in result.lines] == [
        TaxClass.STANDARD,
        TaxClass.ZERO,
        TaxClass.EXEMPT,
    ]


@pytest.mark.parametrize(
    ("currency", "price", "percent", "discount", "tax"),
    [
        # 2 decimals (NGN, KES, ZAR): 45.00 x 12.5 % = 5.625 -> 5.63; VAT 7.5 % of 39.37 = 2.95275
        ("KES", "45.00", "12.5", "5.63", "2.95"),
        # 0 decimals (UGX): 45 x 12.5 % = 5.625 -> 6; VAT 7.5 % of 39 = 2.925 -> 3
        ("UGX", "45", "12.5", "6", "3"),
        # 3 decimals (KWD): 4.5 x 12.5 % = 0.5625 -> 0.563; VAT of 3.937 = 0.295275 -> 0.295
        ("KWD", "4.500", "12.5", "0.563", "0.295"),
    ],
)
def test_amounts_round_half_up_to_the_currencys_minor_unit(
    currency: str, price: str, percent: str, discount: str, tax: str
) -> None:
    deal = promo("DEAL", percent_off=Decimal(percent), sku="chai")
    prices = {"chai": PriceEntry("chai", currency, Decimal(price))}

    result = quote(
        [item("chai", 1, "drinks")],
        prices,
        [deal],
        currency=currency,
        vat_rate=Decimal("0.075"),
        now=NOW,
    )

    assert result.discount == Money(Decimal(discount), currency)
    assert result.tax == Money(Decimal(tax), currency)
    assert str(result.tax.amount) == tax  # exactly the minor unit's places


# --- explanations and locks ---------------------------------------------------------------


def test_every_line_explains_its_price_tier_and_promotions(translator: Any) -> None:
    promotions = [
        promo("Noodle week", percent_off=Decimal(10), category_id="noodles", min_quantity=3),
        promo("B5G1", kind=PromotionKind.BUY_X_GET_Y, buy_quantity=5, get_quantity=1, sku="cola"),
    ]
    contract = ContractPrice("C-9", "+2348030000001", "rice", Decimal(800), NOW - WEEK, NOW + WEEK)
    terms = CustomerTerms("+2348030000001", zone=ZONE, contracts={"rice": contract})
    result = q(
        [item("indomie", 12), item("cola", 6, "drinks"), item("rice", 1, "rice")],
        [
            entry("indomie", "1000", (10, "970")),
            entry("cola", "300"),
            entry("rice", "1000", tax=TaxClass.ZERO),
        ],
        promotions,
        terms=terms,
    )

    def en(msgid: str, /, **values: object) -> str:
        return str(translator("en", msgid, **values))

    assert explain_quote(result, en, "en") == [
        "12 x Indomie at NGN 970.00 (list price); 10+ quantity price; Noodle week -NGN 1,164.00",
        "6 x Cola at NGN 300.00 (list price); B5G1: 1 free, -NGN 300.00",
        "1 x Rice at NGN 800.00 (contract C-9); VAT 0%",
        "Delivery NGN 1,500.00",
    ]


def test_a_locked_quote_survives_storage_and_refuses_late_or_other_carts() -> None:
    promotions = [promo("TEN", percent_off=Decimal(10), sku="indomie", exclusive=False)]
    terms = CustomerTerms("+2348030000001", zone=ZONE)
    original = q([item("indomie", 3)], [entry("indomie", "999.99")], promotions, terms=terms)
    lock = PriceLock(
        id=__import__("uuid").UUID(int=1),
        customer="+2348030000001",
        region="lagos",
        lines=(("indomie", 3),),
        voucher=None,
        quote=quote_from_doc(quote_to_doc(original)),
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )

    assert lock.quote == original
    assert lock.check("+2348030000001", [("indomie", 3)], NOW + timedelta(minutes=14)) == original
    with pytest.raises(PriceLockExpiredError):
        lock.check("+2348030000001", [("indomie", 3)], NOW + timedelta(minutes=15))
    with pytest.raises(PriceLockMismatchError):
        lock.check("+2348030000001", [("indomie", 4)], NOW)
    with pytest.raises(PriceLockMismatchError):
        lock.check("+2348030000002", [("indomie", 3)], NOW)


# --- properties ---------------------------------------------------------------------------

SKUS = ("indomie", "spaghetti", "rice", "soap", "cola")
CATEGORIES = ("noodles", "rice", "care")
CURRENCIES = {
    "NGN": Decimal("0.075"),
    "KES": Decimal("0.16"),
    "ZAR": Decimal("0.15"),
    "UGX": Decimal("0.18"),
}


@st.composite
def promotions_st(draw: st.DrawFn, currency: str) -> list[Promotion]:
    places = -minor_unit(currency).as_tuple().exponent  # type: ignore[operator]
    amounts = st.integers(1, 2_000_000).map(lambda n: Decimal(n).scaleb(-places))
    out = []
    for n in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(list(PromotionKind)))
        by_sku = draw(st.booleans())
        target: dict[str, Any] = {}
        if kind in (PromotionKind.PERCENT, PromotionKind.FIXED, PromotionKind.BUY_X_GET_Y):
            target = (
                {"sku": draw(st.sampled_from(SKUS))}
                if by_sku
                else {"category_id": draw(st.sampled_from(CATEGORIES))}
            )
        extra: dict[str, Any] = {}
        if kind is PromotionKind.PERCENT:
            extra["percent_off"] = draw(
                st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)
            )
        elif kind is PromotionKind.FIXED:
            extra["amount_off"] = draw(amounts)
        elif kind is PromotionKind.BUY_X_GET_Y:
            extra["buy_quantity"] = draw(st.integers(1, 6))
            extra["get_quantity"] = draw(st.integers(1, 3))
        elif kind is PromotionKind.BUNDLE:
            skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True))
            extra["bundle"] = {s: draw(st.integers(1, 3)) for s in skus}
            extra["bundle_price"] = draw(amounts)
        else:
            extra["min_order"] = draw(amounts)
        start = NOW + timedelta(hours=draw(st.integers(-48, 2)))
        out.append(
            Promotion(
                id=f"P{n}",
                names={"en": f"P{n}"},
                starts_at=start,
                ends_at=start + timedelta(hours=draw(st.integers(1, 96))),
                kind=kind,
                min_quantity=draw(st.integers(1, 12)),
                priority=draw(st.integers(0, 3)),
                exclusive=draw(st.booleans()),
                per_customer_limit=draw(st.none() | st.integers(0, 3)),
                budget=draw(st.none() | amounts),
                **target,
                **extra,
            )
        )
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    places = -minor_unit(currency).as_tuple().exponent  # type: ignore[operator]
    amounts = st.integers(0, 5_000_000).map(lambda n: Decimal(n).scaleb(-places))
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=len(SKUS), unique=True))
    items = [
        QuoteItem(s, s, draw(st.sampled_from(CATEGORIES)), draw(st.integers(1, 500))) for s in skus
    ]
    prices = {
        s: PriceEntry(
            s,
            currency,
            draw(amounts),
            tuple(
                PriceTier(m, draw(amounts)) for m in draw(st.sets(st.integers(2, 60), max_size=2))
            ),
            draw(st.sampled_from(list(TaxClass))),
        )
        for s in skus
    }
    promotions = draw(promotions_st(currency))
    usage = {
        p.id: PromotionUsage(draw(st.integers(0, 4)), draw(amounts))
        for p in promotions
        if draw(st.booleans())
    }
    zone = draw(
        st.none()
        | st.builds(DeliveryZone, st.just("z"), st.just({"en": "z"}), amounts, st.none() | amounts)
    )
    terms = CustomerTerms("+2348030000001", zone=zone, usage=usage)
    return {
        "currency": currency,
        "items": items,
        "prices": prices,
        "promotions": promotions,
        "terms": terms,
    }


def run(s: Mapping[str, Any]) -> Quote:
    return quote(
        s["items"],
        s["prices"],
        s["promotions"],
        currency=s["currency"],
        vat_rate=CURRENCIES[s["currency"]],
        now=NOW,
        terms=s["terms"],
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_totals_add_up_never_go_negative_and_stay_in_minor_units(s: dict[str, Any]) -> None:
    result = run(s)

    cur = s["currency"]
    zero = Money.zero(cur)
    assert result.total == (result.subtotal - result.discount + result.delivery + result.tax)
    assert result.subtotal == sum((ln.line_total for ln in result.lines), zero)
    assert result.discount == sum((ln.discount for ln in result.lines), zero)
    assert zero <= result.discount <= result.subtotal
    assert zero <= result.delivery
    assert not result.total.is_negative
    quantum = minor_unit(cur)
    for money in [result.subtotal, result.discount, result.tax, result.total, result.delivery]:
        assert money.amount == money.amount.quantize(quantum)
    for line in result.lines:
        assert zero <= line.discount <= line.line_total
        assert line.discount == sum((a.discount for a in line.promotions), zero)
        for a in line.promotions:
            assert a.discount.amount == a.discount.amount.quantize(quantum)
            assert a.discount > zero


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_stacking_respects_priority_and_exclusivity(s: dict[str, Any]) -> None:
    result = run(s)

    for line in result.lines:
        applied = line.promotions
        if any(a.exclusive for a in applied):
            assert len(applied) == 1
        priorities = [a.priority for a in applied]
        assert priorities == sorted(priorities, reverse=True)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_per_customer_limits_and_budgets_are_never_exceeded(s: dict[str, Any]) -> None:
    result = run(s)

    usage: Mapping[str, PromotionUsage] = s["terms"].usage
    spend = result.spend()
    for p in s["promotions"]:
        used = usage.get(p.id, PromotionUsage())
        if p.per_customer_limit is not None and used.customer_uses >= p.per_customer_limit:
            assert p.id not in spend
        if p.budget is not None:
            assert spend.get(p.id, Decimal(0)) <= max(Decimal(0), p.budget - used.budget_spent)
        if not p.live_at(NOW):
            assert p.id not in spend


def test_a_code_shared_by_several_promotions_is_good_while_any_of_them_is() -> None:
    promotions = [
        promo("OLD", percent_off=Decimal(5), sku="indomie", code="DUKA", ends_at=NOW),
        promo("NEW", percent_off=Decimal(8), sku="indomie", code="DUKA"),
    ]

    result = q([item("indomie", 1)], [entry("indomie", "1000")], promotions, voucher="duka")

    assert [a.id for a in result.lines[0].promotions] == ["NEW"]
    assert result.discount == ngn("80")
