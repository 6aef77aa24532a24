"""What a chart shows, as plain models: built by billing, metering or the planner, drawn here.

Amounts stay Decimal and times stay aware; they become floats only inside the drawing code.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modeldeck.money import DecimalStr


class SpendPoint(BaseModel):
    """Cumulative spend of the period at an instant."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    amount: DecimalStr


class SpendChart(BaseModel):
    """Spend over a period: actual to date, forecast to the period's end, and the budget line."""

    title: str = "Spend this period"
    currency: str = "USD"
    actual: list[SpendPoint] = Field(default_factory=list)
    forecast: list[SpendPoint] = Field(default_factory=list)
    budget: DecimalStr | None = None


class UsageChart(BaseModel):
    """Input tokens per minute of one deployment against the input TPM it has purchased."""

    title: str = "Usage per minute"
    minutes: list[datetime]
    input_tokens: list[int]
    purchased_tpm: int = Field(ge=0)

    @model_validator(mode="after")
    def _same_length(self) -> UsageChart:
        if len(self.minutes) != len(self.input_tokens):
            raise ValueError(
                f"minutes ({len(self.minutes)}) and input_tokens ({len(self.input_tokens)}) "
                "must have the same length"
            )
        return self


class CostCurveChart(BaseModel):
    """The planner's cost curve: cost per period against purchased input TPM, one point marked."""

    title: str = "Cost vs input capacity"
    currency: str = "USD"
    per: str = "day"
    points: list[tuple[int, DecimalStr]]
    recommended: tuple[int, DecimalStr] | None = None

    @property
    def recommended_cost(self) -> Decimal | None:
        return self.recommended[1] if self.recommended else None


Chart = SpendChart | UsageChart | CostCurveChart
