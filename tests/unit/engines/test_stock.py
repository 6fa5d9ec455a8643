"""Stock reservations never promise more than is on the shelf."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines.catalogue import OutOfStockError, StockLevel


def level(on_hand: int, reserved: int = 0) -> StockLevel:
    return StockLevel("WH-LAGOS", "NDL-INDO-CHK", on_hand, reserved)


def test_available_is_on_hand_minus_reserved() -> None:
    assert level(200, 37).available == 163


def test_reserving_moves_units_from_available_to_reserved() -> None:
    reserved = level(200, 37).reserve(13)

    assert reserved == StockLevel("WH-LAGOS", "NDL-INDO-CHK", 200, 50)
    assert reserved.available == 150


def test_the_last_units_can_be_reserved() -> None:
    assert level(10, 4).reserve(6).available == 0


def test_reserving_more_than_available_says_what_was_asked_and_what_is_left() -> None:
    with pytest.raises(OutOfStockError) as excinfo:
        level(10, 4).reserve(7)

    error = excinfo.value
    assert (error.sku, error.requested, error.available) == ("NDL-INDO-CHK", 7, 6)


def test_reserving_from_an_over_reserved_level_reports_nothing_available() -> None:
    with pytest.raises(OutOfStockError) as excinfo:
        level(5, 8).reserve(1)

    assert excinfo.value.available == 0


@pytest.mark.parametrize("quantity", [0, -3])
def test_only_a_positive_quantity_can_be_reserved(quantity: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        level(10).reserve(quantity)


@given(
    on_hand=st.integers(0, 1_000),
    reserved=st.integers(0, 1_000),
    requests=st.lists(st.integers(1, 300), max_size=20),
)
def test_reservations_never_make_available_negative(
    on_hand: int, reserved: int, requests: list[int]
) -> None:
    current = level(on_hand, reserved)
    for quantity in requests:
        before = current
        if quantity > before.available:
            with pytest.raises(OutOfStockError) as excinfo:
                current.reserve(quantity)
            assert (excinfo.value.requested, excinfo.value.available) == (
                quantity,
                before.available,
            )
        else:
            current = current.reserve(quantity)
            assert current.available == before.available - quantity
        assert current.available >= 0
        assert current.on_hand == on_hand
