"""Money as Decimal plus ISO 4217 currency, quantised to the currency's minor unit.

Floats never enter: a price read over the phone must add up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, is_currency


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined."""


class InvalidMoneyError(ValueError):
    """An amount that is not a finite decimal, or a currency that is not ISO 4217."""


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal('0.01') for NGN, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


# The smallest cash that changes hands where small coins are not used (cash rounding): what is
# paid in cash at a pay-on-delivery door is rounded to it; a currency not named pays its minor
# unit. Cards, transfers and mobile money are never rounded.
CASH_UNITS: dict[str, Decimal] = {"NGN": Decimal("1"), "KES": Decimal("1"), "ZAR": Decimal("0.10")}


def cash_unit(currency: str) -> Decimal:
    """The smallest amount of the currency paid in cash: KES 1, ZAR 0.10."""
    return CASH_UNITS.get(currency, minor_unit(currency))


@lru_cache(maxsize=512)
def _known_currency(code: str) -> bool:
    """Babel's answer, kept: every price and total is built through here."""
    return is_currency(code)


def round_half_up(amount: Decimal, currency: str) -> Decimal:
    """The project's one rounding rule: half away from zero, to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, Decimal | int | str):  # type: ignore[redundant-expr,unreachable,unused-ignore]
            # float never: 0.1 + 0.2 is not 0.3; bool is an int but not an amount.
            raise InvalidMoneyError("money is built from Decimal, int or str, never float")
        try:
            amount = Decimal(self.amount)
        except InvalidOperation as exc:
            raise InvalidMoneyError(f"not an amount: {self.amount!r}") from exc
        if not amount.is_finite():
            raise InvalidMoneyError(f"not a finite amount: {self.amount!r}")
        if not isinstance(self.currency, str) or not _known_currency(self.currency):  # type: ignore[redundant-expr,unused-ignore]
            raise InvalidMoneyError(f"not an ISO 4217 currency: {self.currency!r}")
        try:
            object.__setattr__(self, "amount", round_half_up(amount, self.currency))
        except InvalidOperation as exc:
            raise InvalidMoneyError(f"amount out of range: {self.amount!r}") from exc

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise InvalidMoneyError("multiply money by int or Decimal, never float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def in_cash(self) -> Money:
        """The amount rounded to the nearest cash unit of its currency, half up (KES 2,521.26
        is paid KES 2,521.00 in cash, ZAR 105.45 is ZAR 105.50)."""
        unit = cash_unit(self.currency)
        return Money(
            (self.amount / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP) * unit,
            self.currency,
        )

    def format(self) -> str:
        """GSM-7-safe display ('NGN 1,250.00'): currency symbols like ₦ cost a whole USSD page."""
        places = get_currency_precision(self.currency)
        return f"{self.currency} {self.amount:,.{places}f}"

    def short(self) -> str:
        """Whole amounts without decimals ('NGN 8,500'), to save characters on list screens."""
        if self.amount == self.amount.to_integral_value():
            return f"{self.currency} {self.amount:,.0f}"
        return self.format()

    def __str__(self) -> str:
        return self.format()
