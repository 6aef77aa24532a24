"""Which billing method wins a comparison, computed once for every surface and the estimate note."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from modeldeck.money import format_amount, to_decimal

MAX_HOURS_PER_DAY = Decimal(24)


def hours_text(value: Decimal) -> str:
    """12.00 -> 12, 15.67 -> 15.67: hours without trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class ComparisonVerdict(BaseModel):
    """The comparison's answer: the prepaid method, the break-even, and who is cheaper now."""

    prepaid: str
    hours_per_day: Decimal
    break_even: Decimal | None
    hourly_30_days: Decimal
    prepaid_30_days: Decimal
    currency: str = "USD"

    @property
    def cheaper(self) -> str | None:
        """`hourly`, the prepaid method, or None when both cost the same."""
        if self.hourly_30_days < self.prepaid_30_days:
            return "hourly"
        if self.hourly_30_days > self.prepaid_30_days:
            return self.prepaid
        return None

    @property
    def saving(self) -> str:
        """The difference per 30 days, formatted."""
        return format_amount(abs(self.hourly_30_days - self.prepaid_30_days), self.currency)

    @property
    def headline(self) -> str:
        """`Upfront wins above 12 h/day` (or why it never does)."""
        method = self.prepaid
        if self.break_even is None:
            return f"Hourly costs nothing here, so {method} never wins"
        if self.break_even >= MAX_HOURS_PER_DAY:
            return (
                f"Hourly wins at any hours a day ({method} would only win above "
                f"{hours_text(self.break_even)} h/day)"
            )
        return f"{method.capitalize()} wins above {hours_text(self.break_even)} h/day"

    @property
    def detail(self) -> str:
        """`At 14 h/day upfront is cheaper by $187.20 per 30 days.`"""
        at = f"At {hours_text(self.hours_per_day)} h/day"
        if self.cheaper is None:
            return f"{at} both cost the same."
        return f"{at} {self.cheaper} is cheaper by {self.saving} per 30 days."


def comparison_verdict(rows: Sequence[Mapping[str, Any]]) -> ComparisonVerdict:
    """The verdict of `billing.compare` rows (one hourly row, one prepaid row)."""
    hourly = next(r for r in rows if r.get("billing") == "hourly")
    prepaid = next(r for r in rows if r.get("billing") != "hourly")
    even = hourly.get("break_even_hours_per_day")
    return ComparisonVerdict(
        prepaid=str(prepaid["billing"]),
        hours_per_day=to_decimal(hourly["hours_per_day"]),
        break_even=None if even is None else to_decimal(even),
        hourly_30_days=to_decimal(hourly["per_30_days"]),
        prepaid_30_days=to_decimal(prepaid["per_30_days"]),
        currency=str(hourly.get("currency") or "USD"),
    )
