"""What alert rules read (deployment states, orders, recent overflow) and what they produce."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck.billing.accrual import Capacity
from modeldeck.budgets.models import BudgetTarget
from modeldeck.money import DecimalStr

Severity = Literal["info", "warning", "critical"]
# Alert kinds; thresholds and expiry warnings add their number: "budget_threshold:80", "expiry:2h".
KINDS = (
    "budget_threshold",
    "forecast_overrun",
    "overflow_spend",
    "overflow_share",
    "expiry",
    "stopped",
    "released",
    "arrears",
    "capacity_mismatch",
    "idle",
)


class AlertCandidate(BaseModel):
    """An alert a rule says is due; raised at most once per `key` (kind, scope, period)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    scope: str
    period: str
    severity: Severity
    title: str
    text: str
    at: datetime
    data: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """The dedup key: one alert per kind, scope and period, whichever replica sees it."""
        return f"{self.kind}|{self.scope}|{self.period}"


class RaisedAlert(AlertCandidate):
    """An alert that was claimed in the store (by this evaluation or an earlier one)."""

    id: int
    raised_at: datetime


class DeploymentState(BaseModel):
    """A deployment as the rules see it: status, capacity bought vs observed, last call."""

    target: BudgetTarget
    status: str
    plan: str
    billing: str = "hourly"
    created_at: datetime
    status_since: datetime | None = None
    last_call_at: datetime | None = None
    recorded: Capacity | None = None  # what modeldeck bought
    observed: Capacity | None = None  # what the provider reports now
    arrears_since: datetime | None = None

    @property
    def ref(self) -> str:
        return self.target.deployed_model or self.target.id


class OrderState(BaseModel):
    """A prepaid order with its timeline (see billing.timeline.order_timeline)."""

    order_id: str
    deployment_id: str
    expires_at: datetime
    stops_at: datetime
    released_at: datetime
    auto_renew: bool = False


class OverflowWindow(BaseModel):
    """One deployment's calls in the recent window (e.g. summed from usage_minutes)."""

    deployment: str  # the deployment id (the alert scope is deployment:<id>)
    start: datetime
    end: datetime
    input_tokens: int = Field(ge=0)
    overflow_input_tokens: int = Field(ge=0)
    overflow_cost: DecimalStr = Decimal(0)

    @property
    def share_percent(self) -> Decimal:
        if self.input_tokens == 0:
            return Decimal(0)
        return Decimal(self.overflow_input_tokens * 100) / Decimal(self.input_tokens)
