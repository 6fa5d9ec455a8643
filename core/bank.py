"""A payee's bank account (bank code + account number), checked where it enters the system.

Payouts in Nigeria go by NIP to a NUBAN (10 digits) at a bank named by its 6-digit NIP
institution code; in South Africa by Paystack to an account (7 to 11 digits) at a bank named by
its 6-digit universal branch code. Kenya pays to the M-Pesa wallet of the phone: no bank account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.region import RegionCode


class InvalidBankAccountError(ValueError):
    """A bank code or account number that cannot be right; `field` names which."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


_RULES: dict[RegionCode, tuple[re.Pattern[str], str, re.Pattern[str], str]] = {
    RegionCode.LAGOS: (
        re.compile(r"^\d{6}$"),
        "a 6-digit NIP institution code (e.g. 000013)",
        re.compile(r"^\d{10}$"),
        "a 10-digit NUBAN",
    ),
    RegionCode.CAPE_TOWN: (
        re.compile(r"^\d{6}$"),
        "a 6-digit universal branch code (e.g. 632005)",
        re.compile(r"^\d{7,11}$"),
        "7 to 11 digits",
    ),
}


@dataclass(frozen=True, slots=True)
class BankAccount:
    bank_code: str
    number: str

    @classmethod
    def parse(cls, region: RegionCode, bank_code: str, number: str) -> BankAccount:
        """Clean (spaces and dashes go) and check for the region's payout rail."""
        rules = _RULES.get(region)
        if rules is None:
            raise InvalidBankAccountError(
                "bank_code", f"{region.value} pays to the phone's mobile money, not to a bank"
            )
        code_rule, code_says, number_rule, number_says = rules
        code = re.sub(r"[\s-]", "", bank_code)
        digits = re.sub(r"[\s-]", "", number)
        if not code_rule.match(code):
            raise InvalidBankAccountError("bank_code", f"expected {code_says}, got {bank_code!r}")
        if not number_rule.match(digits):
            raise InvalidBankAccountError(
                "account_number", f"expected {number_says}, got {number!r}"
            )
        return cls(code, digits)


def names_match(on_file: str, at_bank: str) -> bool:
    """Whether the bank's account name is the payee's: the same words in any order, ignoring
    case and punctuation; a middle name one side omits is allowed, a different surname is not
    (both need at least two words in common, or all words when a side has only one)."""
    mine, theirs = _words(on_file), _words(at_bank)
    if not mine or not theirs:
        return False
    common = mine & theirs
    shorter = min(len(mine), len(theirs))
    return len(common) == shorter and (len(common) >= 2 or mine == theirs)


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z]+", name.lower()) if w}
