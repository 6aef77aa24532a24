"""`[alerts]` settings: the thresholds of every alert rule, with defaults (docs/budgets.md)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modeldeck.money import DecimalStr


class AlertSettings(BaseModel):
    """Thresholds of the alert rules. Each default is a guess about what a team wants to hear."""

    model_config = ConfigDict(extra="forbid")

    # Overflow in the last `overflow_window_minutes`: spend and share of input tokens.
    overflow_window_minutes: int = Field(default=60, ge=1, le=1440)
    overflow_usd: DecimalStr = Field(default=Decimal("10"), ge=0)
    overflow_share_percent: int = Field(default=20, ge=1, le=100)
    # Upfront orders: warn this many hours before expiry (the service stops 2 h after).
    expiry_warn_hours: list[int] = Field(default_factory=lambda: [24, 2])
    # Reserved capacity with no calls for this long.
    idle_hours: int = Field(default=6, ge=1, le=24 * 31)
    # Stopped and released alerts are raised only this long after the event (not on a first
    # run long after it happened).
    late_hours: int = Field(default=24, ge=1, le=24 * 31)
    # Forecasts project overflow from the rate of the last this-many hours.
    overflow_projection_hours: int = Field(default=24, ge=1, le=24 * 31)

    @field_validator("expiry_warn_hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        bad = [h for h in value if not 1 <= h <= 24 * 30]
        if bad:
            raise ValueError(f"expiry_warn_hours {bad} are out of range; give hours from 1 to 720")
        return sorted(set(value), reverse=True)
