"""Which rails exist is decided by configuration; production refuses to run unverifiable ones."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.app.payments import MissingPaymentSecretError, build_rails
from core.clock import SteppedClock
from core.config import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


MPESA = {
    "mpesa_consumer_key": "k",
    "mpesa_consumer_secret": SecretStr("s"),
    "mpesa_shortcode": "174379",
    "mpesa_passkey": SecretStr("p"),
}


def test_no_credentials_no_rails() -> None:
    assert build_rails(settings(), SteppedClock()) == {}


def test_a_rail_appears_when_its_credentials_are_set() -> None:
    rails = build_rails(settings(**MPESA, paystack_secret_key=SecretStr("sk")), SteppedClock())
    assert sorted(rails) == ["mpesa", "paystack"]


def test_production_refuses_mpesa_without_a_callback_secret() -> None:
    with pytest.raises(MissingPaymentSecretError, match="OMNIROUTE_PAYMENTS_CALLBACK_SECRET"):
        build_rails(settings(env="production", **MPESA), SteppedClock())
    secret = SecretStr("x" * 32)
    with pytest.raises(MissingPaymentSecretError, match="OMNIROUTE_PUBLIC_URL"):
        build_rails(
            settings(env="production", payments_callback_secret=secret, **MPESA), SteppedClock()
        )
    ok = build_rails(
        settings(
            env="production",
            payments_callback_secret=secret,
            public_url="https://omniroute.example",
            **MPESA,
        ),
        SteppedClock(),
    )
    assert "mpesa" in ok


def test_production_refuses_flutterwave_without_its_secret_hash() -> None:
    with pytest.raises(MissingPaymentSecretError, match="OMNIROUTE_FLUTTERWAVE_SECRET_HASH"):
        build_rails(
            settings(env="production", flutterwave_secret_key=SecretStr("k")), SteppedClock()
        )
