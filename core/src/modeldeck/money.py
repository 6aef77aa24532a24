"""Money as Decimal with a currency: exact sums, half-up rounding to cents only when presented."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer

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
