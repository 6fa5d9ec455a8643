"""Money: Decimal + ISO 4217, quantised half-up to the currency's minor unit, never float."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    CurrencyMismatchError,
    InvalidMoneyError,
    Money,
    cash_unit,
    minor_unit,
    round_half_up,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "NGN", Decimal("1.01")),
        ("1.004", "NGN", Decimal("1.00")),
        ("-1.005", "NGN", Decimal("-1.01")),
        ("2.5", "JPY", Decimal(3)),
        ("3.5", "UGX", Decimal(4)),
        ("2.4", "UGX", Decimal(2)),
        ("1.0005", "KWD", Decimal("1.001")),
        ("1.0004", "BHD", Decimal("1.000")),
        (7, "KES", Decimal("7.00")),
    ],
)
def test_amount_is_rounded_half_up_to_the_currency_minor_unit(
    amount: str | int, currency: str, expected: Decimal
) -> None:
    money = Money(amount, currency)  # type: ignore[arg-type]

    assert money.amount == expected
    assert money.amount.as_tuple().exponent == expected.as_tuple().exponent


@pytest.mark.parametrize(
    ("currency", "unit"),
    [("NGN", Decimal("0.01")), ("JPY", Decimal(1)), ("UGX", Decimal(1)), ("KWD", Decimal("0.001"))],
)
def test_minor_unit_follows_iso_4217_precision(currency: str, unit: Decimal) -> None:
    assert minor_unit(currency) == unit


def test_round_half_up_rounds_halves_away_from_zero() -> None:
    assert round_half_up(Decimal("0.125"), "NGN") == Decimal("0.13")
    assert round_half_up(Decimal("-0.125"), "NGN") == Decimal("-0.13")
    assert round_half_up(Decimal("0.5"), "JPY") == Decimal(1)


def test_float_amount_is_refused() -> None:
    with pytest.raises(InvalidMoneyError):
        Money(0.1, "NGN")  # type: ignore[arg-type]


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(InvalidMoneyError):
        Money(Decimal(10), "NGN") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", Decimal("-Infinity")])
def test_non_finite_or_non_numeric_amount_is_refused(amount: str | Decimal) -> None:
    with pytest.raises(InvalidMoneyError):
        Money(amount, "NGN")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["XYZ", "ngn", "", "NAIRA"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money(Decimal(1), currency)


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_amounts_in_different_currencies_do_not_mix(
    combine: Callable[[Money, Money], object],
) -> None:
    with pytest.raises(CurrencyMismatchError):
        combine(Money(Decimal(1), "NGN"), Money(Decimal(1), "KES"))


def test_arithmetic_and_comparison_within_one_currency() -> None:
    a, b = Money(Decimal("10.50"), "NGN"), Money(Decimal("2.25"), "NGN")

    assert a + b == Money(Decimal("12.75"), "NGN")
    assert a - b == Money(Decimal("8.25"), "NGN")
    assert b - a == Money(Decimal("-8.25"), "NGN")
    assert (b - a).is_negative
    assert a * 3 == Money(Decimal("31.50"), "NGN")
    assert 3 * a == Money(Decimal("31.50"), "NGN")
    assert a * Decimal("0.075") == Money(Decimal("0.79"), "NGN")
    assert -a == Money(Decimal("-10.50"), "NGN")
    assert b < a
    assert a > b
    assert a >= Money(Decimal("10.5"), "NGN")
    assert a <= Money(Decimal("10.5"), "NGN")


def test_zero_is_zero_in_its_currency() -> None:
    zero = Money.zero("KWD")

    assert zero.amount == 0
    assert zero.currency == "KWD"
    assert zero.format() == "KWD 0.000"


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(Decimal("1250"), "NGN"), "NGN 1,250.00"),
        (Money(Decimal("26993.25"), "NGN"), "NGN 26,993.25"),
        (Money(Decimal("1234567.5"), "KES"), "KES 1,234,567.50"),
        (Money(Decimal("0.5"), "ZAR"), "ZAR 0.50"),
        (Money(Decimal("1500"), "JPY"), "JPY 1,500"),
        (Money(Decimal("12000"), "UGX"), "UGX 12,000"),
        (Money(Decimal("1.5"), "KWD"), "KWD 1.500"),
        (Money(Decimal("-5"), "NGN"), "NGN -5.00"),
    ],
)
def test_format_shows_code_grouping_and_all_minor_digits(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(Decimal("8500"), "NGN"), "NGN 8,500"),
        (Money(Decimal("8500.50"), "NGN"), "NGN 8,500.50"),
        (Money(Decimal("0.05"), "KES"), "KES 0.05"),
        (Money(Decimal("1500"), "JPY"), "JPY 1,500"),
        (Money(Decimal("2"), "BHD"), "BHD 2"),
        (Money(Decimal("2.125"), "BHD"), "BHD 2.125"),
    ],
)
def test_short_drops_decimals_only_for_whole_amounts(money: Money, text: str) -> None:
    assert money.short() == text


def test_displayed_amount_uses_no_currency_symbol() -> None:
    """'₦' is not GSM-7: one such character turns a USSD screen into 70-character UCS-2."""
    assert "₦" not in Money(Decimal("100"), "NGN").format()
    assert Money(Decimal("100"), "NGN").format().startswith("NGN ")


# Amounts of up to a trillion in whole minor units of a two-decimal currency.
ngn = st.integers(min_value=-(10**14), max_value=10**14).map(
    lambda cents: Money(Decimal(cents).scaleb(-2), "NGN")
)


@given(ngn, ngn, ngn)
def test_addition_is_associative(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)


@given(ngn, ngn)
def test_addition_is_commutative(a: Money, b: Money) -> None:
    assert a + b == b + a


@given(ngn)
def test_subtracting_an_amount_from_itself_gives_zero(x: Money) -> None:
    assert x - x == Money.zero("NGN")
    assert not (x - x).is_negative


@given(ngn, ngn)
def test_adding_then_subtracting_returns_the_original(a: Money, b: Money) -> None:
    assert a + b - b == a


@given(st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6))
def test_any_decimal_is_stored_at_exactly_the_minor_unit(amount: Decimal) -> None:
    money = Money(amount, "KWD")

    assert money.amount.as_tuple().exponent == -3
    assert abs(money.amount - amount) <= Decimal("0.0005")


def test_cash_at_the_door_is_rounded_half_up_to_the_cash_unit() -> None:
    """Nobody hands over kobo or cents: NGN and KES to the whole unit, ZAR to 10 cents."""
    assert Money(Decimal("26993.25"), "NGN").in_cash() == Money(Decimal(26993), "NGN")
    assert Money(Decimal("2521.50"), "KES").in_cash() == Money(Decimal(2522), "KES")
    assert Money(Decimal("105.45"), "ZAR").in_cash() == Money(Decimal("105.50"), "ZAR")
    assert Money(Decimal("105.44"), "ZAR").in_cash() == Money(Decimal("105.40"), "ZAR")
    assert Money(Decimal("12.34"), "USD").in_cash() == Money(Decimal("12.34"), "USD")


@given(
    st.decimals(min_value=0, max_value=10**8, places=2),
    st.sampled_from(["NGN", "KES", "ZAR"]),
)
def test_cash_rounding_is_a_whole_number_of_units_within_half_a_unit(
    amount: Decimal, currency: str
) -> None:
    total = Money(amount, currency)
    cash = total.in_cash()
    unit = cash_unit(currency)
    assert abs(cash.amount - total.amount) <= unit / 2
    assert cash.amount % unit == 0
