"""Bank accounts are checked where they enter, and a bank's account name must be the payee's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.bank import BankAccount, InvalidBankAccountError, names_match
from core.region import RegionCode

WORDS = st.lists(st.from_regex(r"[A-Za-z]{2,10}", fullmatch=True), min_size=2, max_size=4)


def test_a_nuban_and_a_branch_code_are_cleaned_and_kept() -> None:
    assert BankAccount.parse(RegionCode.LAGOS, "000013", "0123 456-789") == BankAccount(
        "000013", "0123456789"
    )
    assert BankAccount.parse(RegionCode.CAPE_TOWN, "632005", "4081234567") == BankAccount(
        "632005", "4081234567"
    )


@pytest.mark.parametrize(
    ("region", "code", "number", "field"),
    [
        (RegionCode.LAGOS, "13", "0123456789", "bank_code"),
        (RegionCode.LAGOS, "000013", "012345678", "account_number"),
        (RegionCode.LAGOS, "000013", "01234567AB", "account_number"),
        (RegionCode.CAPE_TOWN, "632005", "123456", "account_number"),
        (RegionCode.NAIROBI, "000013", "0123456789", "bank_code"),
    ],
)
def test_a_wrong_bank_account_names_the_field(
    region: RegionCode, code: str, number: str, field: str
) -> None:
    with pytest.raises(InvalidBankAccountError) as raised:
        BankAccount.parse(region, code, number)
    assert raised.value.field == field


def test_the_account_name_must_be_the_payees() -> None:
    assert names_match("Emeka Obi", "EMEKA OBI")
    assert names_match("Obi, Emeka", "EMEKA OBI")
    assert names_match("Adaeze Okafor", "ADAEZE NGOZI OKAFOR")  # a middle name left out
    assert not names_match("Emeka Obi", "ADAEZE NGOZI OKAFOR")
    assert not names_match("Emeka Obi", "EMEKA OKAFOR")  # another surname
    assert not names_match("Emeka", "EMEKA OBI")  # one word is not enough
    assert not names_match("", "EMEKA OBI")


@given(WORDS, st.randoms())
def test_names_match_whatever_the_order_case_and_punctuation(words: list[str], rnd: object) -> None:
    shuffled = list(words)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert names_match(" ".join(words), ", ".join(w.upper() for w in shuffled))
    assert names_match(" ".join(words), " ".join(shuffled)) == names_match(
        " ".join(shuffled), " ".join(words)
    )
