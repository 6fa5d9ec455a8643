"""Onboarding takes the worker's payout bank account, checked for the worker's region."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.bank import BankAccount
from core.phone import Phone
from core.region import RegionCode
from engines.gig.model import InvalidWorkerError, Onboard, Vehicle, VehicleKind, validate

FORM = Onboard(
    Phone("+2348031000001"),
    "Emeka Obi",
    "NIN12345678",
    RegionCode.LAGOS,
    Vehicle(VehicleKind.BICYCLE, None, 10),
    bank=BankAccount("000013", "0123 456 789"),
)


def test_onboarding_keeps_a_cleaned_bank_account() -> None:
    assert validate(FORM).bank == BankAccount("000013", "0123456789")
    assert validate(replace(FORM, bank=None)).bank is None  # Kenya pays to the phone


def test_onboarding_refuses_a_bank_account_naming_the_bad_field() -> None:
    with pytest.raises(InvalidWorkerError) as raised:
        validate(replace(FORM, bank=BankAccount("000013", "12345")))
    assert raised.value.field == "account_number"
    with pytest.raises(InvalidWorkerError) as raised:
        validate(replace(FORM, region=RegionCode.NAIROBI))
    assert raised.value.field == "bank_code"
