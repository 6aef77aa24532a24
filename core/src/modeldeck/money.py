"""Money as Decimal with a currency: exact sums, half-up rounding to cents only when presented."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

from modeldeck.errors import CurrencyMismatch

CENT = Decimal("0.01")

# Decimals serialise as strings in JSON so no float ever carries money.
DecimalStr = Annotated[
    Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")
]


def to_decimal(value: Any) -> Decimal:
    """Coerce an int, str or Decimal to Decimal; floats are refused because they are inexact."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    return value if isinstance(value, Decimal) else Decimal(value)


def round_cents(amount: Decimal) -> Decimal:
    """Round half-up to whole cents: the only rounding modeldeck does, at presentation."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str = "USD", *, exact: bool = False) -> str:
    """`$1,234.50` for USD (other currencies as `1,234.50 CNY`); `exact` keeps sub-cent digits."""
    value = amount if exact and amount != round_cents(amount) else round_cents(amount)
    text = f"{value:,}"
    if currency == "USD":
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return f"{text} {currency}"


class Money(BaseModel):
    """An exact amount in one currency."""

    model_config = ConfigDict(frozen=True)

    amount: DecimalStr
    currency: str = "USD"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"Cannot add {other.currency} to {self.currency} without an exchange rate.",
                hint='Set [currency.rates] in modeldeck.toml, e.g. CNY = "0.1363" (USD per CNY).',
            )
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(amount=self.amount * to_decimal(factor), currency=self.currency)

    def rounded(self) -> Decimal:
        return round_cents(self.amount)

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)
