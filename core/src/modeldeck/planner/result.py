"""What `plan` answers, as pydantic models: JSON-able, money as decimal strings (to the cent)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from modeldeck.money import DecimalStr

OptionName = Literal["payg", "hourly", "upfront", "schedule", "mu"]
OPTION_NAMES: tuple[OptionName, ...] = ("payg", "hourly", "upfront", "schedule", "mu")


class ScheduleHour(BaseModel):
    """The capacity a schedule holds during one hour of the Beijing day."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    hour: int
    minutes: int
    input_tpm: int
    output_tpm: int


class OptionResult(BaseModel):
    """One way to buy the trace's usage, priced; `available` False with `error` when it can't be."""

    model_config = ConfigDict(defer_build=True)

    option: OptionName
    billing: str
    available: bool = True
    error: str | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    units: int | None = None
    schedule: list[ScheduleHour] | None = None
    reserved: DecimalStr | None = None
    overflow: DecimalStr | None = None
    total: DecimalStr | None = None
    currency: str = "USD"
    effective_per_million: DecimalStr | None = None
    served_input: DecimalStr | None = None
    served_output: DecimalStr | None = None
    meets_coverage: bool | None = None
    saving_vs_payg: DecimalStr | None = None
    saving_vs_current: DecimalStr | None = None
    rank: int | None = None
    reasoning: list[str] = []


class CurvePoint(BaseModel):
    """Total cost of the hourly option at one input capacity (output at its optimum)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    input_tpm: int
    reserved: DecimalStr
    overflow: DecimalStr
    total: DecimalStr


class Sensitivity(BaseModel):
    """How the recommendation moves if traffic grows by `growth` (0.2 = 20%)."""

    model_config = ConfigDict(defer_build=True)

    growth: DecimalStr
    option: OptionName
    input_tpm: int | None = None
    output_tpm: int | None = None
    units: int | None = None
    total: DecimalStr | None = None
    recommended: OptionName | None = None
    text: str


class TraceSummary(BaseModel):
    """The trace a plan was made from."""

    model_config = ConfigDict(defer_build=True)

    source: str
    start: datetime
    end: datetime
    minutes: int
    zero_filled_minutes: int
    input_tokens: int
    output_tokens: int
    thinking_output_tokens: int | None
    peak_input_tpm: int
    peak_output_tpm: int
    request_sizes: bool


class CurrentCapacity(BaseModel):
    """What the deployment runs today, to price the trace under it for comparison."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    billing: Literal["payg", "hourly", "upfront", "mu"]
    input_tpm: int = 0
    output_tpm: int = 0
    units: int = 0


class PlanResult(BaseModel):
    """Every option priced and ranked for one model and trace, with the reasoning to act on it."""

    model_config = ConfigDict(defer_build=True)

    model: str
    mode: str
    currency: str
    coverage: DecimalStr | None
    trace: TraceSummary
    options: list[OptionResult]
    recommended: OptionName | None
    current: OptionResult | None = None
    curve: list[CurvePoint] = []
    sensitivity: Sensitivity | None = None
    notes: list[str] = []

    def option(self, name: OptionName) -> OptionResult:
        """The result of one option (KeyError if it was not planned)."""
        for opt in self.options:
            if opt.option == name:
                return opt
        raise KeyError(name)
