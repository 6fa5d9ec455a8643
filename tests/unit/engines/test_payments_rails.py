"""The pure parts of the rails: the STK password, amounts, signed callback URLs, signatures."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money
from engines.payments import CallbackForgedError
from engines.payments.rails.callbacks import CallbackUrls
from engines.payments.rails.mpesa import stk_password, whole_shillings
from engines.payments.rails.paystack import from_subunit, signature, to_subunit


def test_stk_password_is_base64_of_shortcode_passkey_and_timestamp() -> None:
    # Safaricom's sandbox example: shortcode 174379 with its published test passkey.
    passkey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
    password = stk_password("174379", passkey, "20160216165627")
    assert base64.b64decode(password).decode() == f"174379{passkey}20160216165627"
    assert password.startswith("MTc0Mzc5YmZiMjc5ZjlhYTli")


@given(st.decimals(min_value=1, max_value=10**7, places=2))
def test_mpesa_never_charges_less_than_the_total(amount: Decimal) -> None:
    charged = whole_shillings(Money(amount, "KES"))
    assert charged >= amount
    assert charged - amount < 1


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_kobo_round_trip_is_exact(amount: Decimal) -> None:
    money = Money(amount, "NGN")
    assert from_subunit(to_subunit(money), "NGN") == money


def test_a_signed_callback_url_names_its_intent_and_nothing_else() -> None:
    urls = CallbackUrls("https://gw.example/", "secret")
    intent = uuid.UUID(int=7)
    url = urls.url("mpesa", intent)
    assert url.startswith("https://gw.example/webhooks/mpesa?intent=")
    query = dict(parse_qsl(urlsplit(url).query))
    assert urls.check("mpesa", query) == (intent, "result")
    with pytest.raises(CallbackForgedError):
        urls.check("momo", query)  # another provider's URL
    with pytest.raises(CallbackForgedError):
        urls.check("mpesa", {**query, "intent": str(uuid.UUID(int=8))})
    with pytest.raises(CallbackForgedError):
        urls.check("mpesa", {**query, "kind": "b2c"})
    with pytest.raises(CallbackForgedError):
        CallbackUrls("https://gw.example", "other").check("mpesa", query)


def test_paystack_signature_is_hex_hmac_sha512_of_the_raw_body() -> None:
    body = b'{"event":"charge.success","data":{"id":1}}'
    assert len(signature("sk_test_x", body)) == 128
    assert signature("sk_test_x", body) != signature("sk_test_x", body + b" ")
