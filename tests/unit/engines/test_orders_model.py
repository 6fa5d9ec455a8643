"""Carts keep the customer's order of lines; orders move only along their lifecycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.orders import (
    MAX_LINE_QUANTITY,
    Cart,
    CartLine,
    InvalidTransitionError,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)

NGOZI = Phone.parse("+2348030000001")
S = OrderStatus
HAPPY_PATH = [S.PLACED, S.CONFIRMED, S.PICKING, S.PACKED, S.DISPATCHED, S.DELIVERED]
ALLOWED = {
    S.PLACED: {S.CONFIRMED, S.CANCELLED},
    S.CONFIRMED: {S.PICKING, S.CANCELLED},
    S.PICKING: {S.PACKED, S.CANCELLED},
    S.PACKED: {S.DISPATCHED, S.CANCELLED},
    S.DISPATCHED: {S.DELIVERED, S.RETURNED},
    S.DELIVERED: {S.RETURNED},
    S.CANCELLED: set(),
    S.RETURNED: set(),
}


def cart(*lines: tuple[str, int]) -> Cart:
    return Cart(NGOZI, RegionCode.LAGOS, tuple(CartLine(sku, q) for sku, q in lines))


def order(status: OrderStatus = S.PLACED) -> Order:
    price = Money(Decimal(9300), "NGN")
    return Order(
        id=uuid.UUID(int=1),
        reference="W62ACJ",
        customer=NGOZI,
        region=RegionCode.LAGOS,
        lines=(OrderLine("NDL-INDO-CHK", "Indomie", 3, price, Money(Decimal(2790), "NGN")),),
        subtotal=Money(Decimal(27900), "NGN"),
        discount=Money(Decimal(2790), "NGN"),
        tax=Money(Decimal("1883.25"), "NGN"),
        total=Money(Decimal("26993.25"), "NGN"),
        payment_method=PaymentMethod.ON_DELIVERY,
        status=status,
        idempotency_key="at-ussd:s1:k",
        created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )


def test_new_cart_is_empty() -> None:
    empty = cart()

    assert empty.is_empty
    assert empty.item_count == 0
    assert empty.quantity_of("NDL-INDO-CHK") == 0


def test_adding_products_appends_lines_in_order() -> None:
    filled = cart().add("indomie", 3).add("rice", 1).add("oil", 2)

    assert filled.lines == (CartLine("indomie", 3), CartLine("rice", 1), CartLine("oil", 2))
    assert filled.item_count == 6
    assert not filled.is_empty


def test_adding_a_product_already_in_the_cart_increases_its_line_in_place() -> None:
    filled = cart(("indomie", 3), ("rice", 1)).add("indomie", 2)

    assert filled.lines == (CartLine("indomie", 5), CartLine("rice", 1))


def test_changing_a_quantity_keeps_the_line_where_it_was() -> None:
    changed = cart(("indomie", 3), ("rice", 1), ("oil", 2)).with_quantity("rice", 7)

    assert changed.lines == (CartLine("indomie", 3), CartLine("rice", 7), CartLine("oil", 2))


def test_quantity_zero_removes_the_line_and_keeps_the_others_in_order() -> None:
    changed = cart(("indomie", 3), ("rice", 1), ("oil", 2)).with_quantity("rice", 0)

    assert changed.lines == (CartLine("indomie", 3), CartLine("oil", 2))
    assert changed.quantity_of("rice") == 0


def test_removing_a_product_not_in_the_cart_changes_nothing() -> None:
    original = cart(("indomie", 3))

    assert original.with_quantity("rice", 0) == original


def test_cart_is_immutable_each_change_returns_a_new_cart() -> None:
    original = cart(("indomie", 3))

    original.with_quantity("indomie", 5)

    assert original.lines == (CartLine("indomie", 3),)


@pytest.mark.parametrize("quantity", [-1, MAX_LINE_QUANTITY + 1])
def test_quantity_out_of_range_is_refused(quantity: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        cart(("indomie", 3)).with_quantity("indomie", quantity)


def test_adding_beyond_the_line_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        cart(("indomie", MAX_LINE_QUANTITY)).add("indomie", 1)


def test_the_line_maximum_itself_is_allowed() -> None:
    assert cart().with_quantity("indomie", MAX_LINE_QUANTITY).item_count == MAX_LINE_QUANTITY


def test_cleared_cart_is_empty_but_keeps_its_owner() -> None:
    cleared = cart(("indomie", 3)).cleared()

    assert cleared.is_empty
    assert (cleared.customer, cleared.region) == (NGOZI, RegionCode.LAGOS)


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, MAX_LINE_QUANTITY)),
        max_size=30,
    )
)
def test_any_sequence_of_changes_leaves_one_positive_line_per_product(
    changes: list[tuple[str, int]],
) -> None:
    current = cart()
    expected: dict[str, int] = {}
    for sku, quantity in changes:
        current = current.with_quantity(sku, quantity)
        if quantity == 0:
            expected.pop(sku, None)
        else:
            expected[sku] = quantity

    assert {line.sku: line.quantity for line in current.lines} == expected
    assert [line.sku for line in current.lines] == list(expected)
    assert all(line.quantity > 0 for line in current.lines)


def test_order_follows_the_delivery_lifecycle() -> None:
    current = order()
    for target in HAPPY_PATH[1:]:
        current = current.advance(target)
        assert current.status is target

    assert current.status is S.DELIVERED


def test_advancing_returns_a_new_order_and_keeps_the_rest() -> None:
    placed = order()

    confirmed = placed.advance(S.CONFIRMED)

    assert placed.status is S.PLACED
    assert confirmed == order(S.CONFIRMED)


@pytest.mark.parametrize("status", [S.PLACED, S.CONFIRMED, S.PICKING, S.PACKED])
def test_order_can_be_cancelled_before_dispatch(status: OrderStatus) -> None:
    assert order(status).advance(S.CANCELLED).status is S.CANCELLED


@pytest.mark.parametrize("status", [S.DISPATCHED, S.DELIVERED, S.CANCELLED])
def test_order_cannot_be_cancelled_once_dispatched_or_finished(status: OrderStatus) -> None:
    with pytest.raises(InvalidTransitionError) as excinfo:
        order(status).advance(S.CANCELLED)

    assert (excinfo.value.current, excinfo.value.target) == (status, S.CANCELLED)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PLACED, S.PICKING),  # skipping confirmation
        (S.PLACED, S.DELIVERED),
        (S.PACKED, S.PICKING),  # backwards
        (S.DELIVERED, S.PLACED),
        (S.CONFIRMED, S.CONFIRMED),  # to itself
        (S.CANCELLED, S.CONFIRMED),  # reviving
    ],
)
def test_order_refuses_any_other_transition(current: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(InvalidTransitionError):
        order(current).advance(target)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=20))
def test_status_only_ever_moves_along_allowed_edges(targets: list[OrderStatus]) -> None:
    current = order()
    for target in targets:
        before = current.status
        try:
            current = current.advance(target)
        except InvalidTransitionError:
            assert target not in ALLOWED[before]
            assert current.status is before
        else:
            assert target in ALLOWED[before]
            assert current.status is target


def test_order_line_total_is_net_of_its_discount() -> None:
    line = OrderLine(
        "NDL-INDO-CHK", "Indomie", 3, Money(Decimal(9300), "NGN"), Money(Decimal(2790), "NGN")
    )

    assert line.line_total == Money(Decimal(25110), "NGN")
