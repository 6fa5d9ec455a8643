"""Ngozi's whole USSD journey through the HTTP endpoint, as Africa's Talking drives it."""

from __future__ import annotations

from tests.support.phone import UssdPhone


async def test_ngozi_orders_noodles_and_sees_the_order_in_my_orders(ngozi: UssdPhone) -> None:
    screen = await ngozi.dial()
    assert screen.kind == "CON"
    assert "Welcome to OmniRoute" in screen
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    screen = await ngozi.choose("Indomie Chicken")
    assert "Enter quantity" in screen
    screen = await ngozi.press("3")
    assert "Added 3 x Indomie Chicken" in screen
    screen = await ngozi.choose("Checkout")
    assert "Promotion -NGN 2,790.00" in screen
    assert "VAT 7.5% NGN 1,883.25" in screen
    assert "Total NGN 26,993.25" in screen
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    screen = await ngozi.choose("Confirm")
    assert screen.kind == "END"
    reference = screen.body.split()[1]
    assert f"Order {reference} placed" in screen

    await ngozi.dial()
    screen = await ngozi.choose("My orders")
    assert "Your last orders (NGN):" in screen
    assert f"{reference} Placed 26,993.25" in screen
