"""`[alerts]` settings: the thresholds of every alert rule, with defaults (docs/budgets.md)."""

from __future__ import annotations

from decimal import Decimal
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modeldeck.money import DecimalStr


class AlertRoute(BaseModel):
    """`[[alerts.routes]]`: alerts of a kind and scope go to a named channel (shell patterns;
    a kind pattern also matches the kind's numbered forms: `expiry` matches `expiry:2h`)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "*"
    scope: str = "*"
    channel: str = Field(min_length=1, max_length=200)
    # The Slack workspace (team id) the channel is in, when the app is installed in several
    # (OAuth); None: the workspace the bot posts to by default.
    team: str | None = Field(default=None, max_length=40)

    def matches(self, kind: str, scope: str) -> bool:
        base = kind.split(":", 1)[0]
        kind_ok = fnmatchcase(kind, self.kind) or fnmatchcase(base, self.kind)
        return kind_ok and fnmatchcase(scope, self.scope)


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
    # The reconciler's pass evaluates the rules and raises what is due (off: only `alerts`).
    evaluate_in_reconciler: bool = True
    # Where each alert goes: every route that matches names a channel, in order.
    routes: list[AlertRoute] = Field(default_factory=list)

    def channels_for(self, kind: str, scope: str) -> list[str]:
        """The channels of every route matching an alert (none: the surfaces' defaults)."""
        return list(dict.fromkeys(r.channel for r in self.routes if r.matches(kind, scope)))

    @field_validator("expiry_warn_hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        bad = [h for h in value if not 1 <= h <= 24 * 30]
        if bad:
            raise ValueError(f"expiry_warn_hours {bad} are out of range; give hours from 1 to 720")
        return sorted(set(value), reverse=True)
