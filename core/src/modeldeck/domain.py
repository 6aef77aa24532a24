"""The shared vocabulary: specs, estimates, deployments, requests and results.

Every surface (CLI, server, Slack, notebook) passes these pydantic models around, and the server
sends them as JSON, so a remote deck returns exactly what the in-process one does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck.money import DecimalStr

Plan = Literal["ptu", "mu"]
Mode = Literal["instruct", "thinking"]
# ptu: hourly | upfront (prepaid by the day); mu: hourly | monthly.
BillingMethod = Literal["hourly", "upfront", "monthly"]
Surface = Literal["cli", "slack", "jupyter", "api", "system"]


class DeploySpec(BaseModel):
    """What a deploy or an estimate asks for. Durations only matter to estimates."""

    model_config = ConfigDict(extra="forbid")

    model: str
    plan: Plan
    mode: Mode = "instruct"
    billing: BillingMethod = "hourly"
    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None
    units: int | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_context_length: int | None = None
    max_input_tokens: int | None = None
    hours: DecimalStr | None = None
    days: int | None = None
    months: int | None = None
    duration_seconds: int | None = None
    start: datetime | None = None
    cancel_after_seconds: int | None = None
    hours_per_day: DecimalStr | None = None
    compare: bool = False
    suffix: str | None = None
    name: str | None = None
    auto_renewal: bool = False


class ScaleSpec(BaseModel):
    """A new absolute capacity for an existing deployment."""

    model_config = ConfigDict(extra="forbid")

    deployment: str
    units: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None


class LimitsSpec(BaseModel):
    """New MU rate limits for an existing deployment."""

    model_config = ConfigDict(extra="forbid")

    deployment: str
    rpm_limit: int | None = None
    tpm_limit: int | None = None


class EstimateLine(BaseModel):
    """One priced line: what, how much of it, at what rate, for how long."""

    description: str
    amount: DecimalStr
    quantity: DecimalStr | None = None
    unit: str | None = None
    rate: DecimalStr | None = None
    rate_unit: str | None = None
    periods: DecimalStr | None = None
    period_unit: str | None = None


class Timeline(BaseModel):
    """An upfront order's life in Beijing time (spec: Upfront order timeline)."""

    ordered_at: datetime
    expires_at: datetime
    stops_at: datetime
    released_at: datetime
    extra_day: bool = False


class Cancellation(BaseModel):
    """Settlement of an upfront purchase cancelled within its first 30 days."""

    paid: DecimalStr
    billed_days: int
    settled: DecimalStr
    refund: DecimalStr


class Estimate(BaseModel):
    """The cost of a spec: exact total (round only to present), lines and rates used."""

    model: str
    plan: Plan
    mode: Mode
    billing: BillingMethod
    currency: str = "USD"
    total: DecimalStr
    period: str
    lines: list[EstimateLine] = Field(default_factory=list)
    per_hour: DecimalStr | None = None
    per_day: DecimalStr | None = None
    per_30_days: DecimalStr | None = None
    timeline: Timeline | None = None
    cancellation: Cancellation | None = None
    comparison: list[dict[str, Any]] | None = None
    notes: list[str] = Field(default_factory=list)


class DeploymentStatus(StrEnum):
    """Model Studio statuses; unknown ones are kept as plain strings, never a crash."""

    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    UPDATING = "UPDATING"
    UPDATING_FAILED = "UPDATING_FAILED"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    ARREARS_DOWN = "ARREARS_DOWN"
    ARREARS_RECOVERING = "ARREARS_RECOVERING"
    OFFLINING = "OFFLINING"


class DeploymentRecord(BaseModel):
    """A deployment as modeldeck knows it (store row, synced from the provider)."""

    id: str
    deployed_model: str | None = None
    name: str | None = None
    model: str
    plan: Plan
    mode: Mode = "instruct"
    billing: BillingMethod = "hourly"
    status: str
    units: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    request_id: str | None = None
    imported: bool = False
    created_at: datetime
    updated_at: datetime
    provider_data: dict[str, Any] = Field(default_factory=dict)


RequestKind = Literal["deploy", "scale", "unpublish", "limits"]


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    EXPIRED = "expired"


class PolicyDecision(BaseModel):
    """How a request gets approved and why (shown on the request card)."""

    auto_approve: bool
    approvers_required: int = 1
    rule: str
    approver_role: str = "approver"


class Decision(BaseModel):
    """One approver's vote on a request."""

    principal: str
    surface: Surface
    verdict: Literal["approve", "reject"]
    reason: str | None = None
    at: datetime


class RequestRecord(BaseModel):
    """A change that costs money, from request to outcome."""

    id: str
    kind: RequestKind
    status: RequestStatus
    requester: str
    surface: Surface
    reason: str | None = None
    deploy: DeploySpec | None = None
    scale: ScaleSpec | None = None
    limits: LimitsSpec | None = None
    deployment_id: str | None = None
    estimate: Estimate | None = None
    policy: PolicyDecision
    decisions: list[Decision] = Field(default_factory=list)
    created_at: datetime
    expires_at: datetime | None = None
    decided_at: datetime | None = None
    executed_at: datetime | None = None
    error: str | None = None
    refs: dict[str, str] = Field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.deploy is not None:
            d = self.deploy
            cap = (
                f"{d.units} unit(s)"
                if d.plan == "mu"
                else f"{d.input_tpm or 0:,} in / {d.output_tpm or 0:,} out TPM"
            )
            return f"deploy {d.model} {d.plan} {d.billing} ({cap})"
        if self.scale is not None:
            s = self.scale
            cap = (
                f"{s.units} unit(s)"
                if s.units is not None
                else f"{s.input_tpm or 0:,} in / {s.output_tpm or 0:,} out TPM"
            )
            return f"scale {s.deployment} to {cap}"
        if self.limits is not None:
            return f"set limits on {self.limits.deployment}"
        return f"{self.kind} {self.deployment_id or ''}".strip()


class Actor(BaseModel):
    """Who is acting, and from where."""

    principal: str
    surface: Surface
    roles: list[str] = Field(default_factory=list)
    external_id: str | None = None


class DecisionOutcome(BaseModel):
    """The truthful answer to an approver: what their click did."""

    request: RequestRecord
    outcome: Literal["recorded", "rejected", "already_decided", "executed", "failed"]
    message: str


class CommandResult(BaseModel):
    """What running one command of the grammar produced, for every surface to render."""

    command: str
    ok: bool = True
    text: str
    data: Any = None


class Usage(BaseModel):
    """Spend and capacity figures for a deployment over a period (filled by billing)."""

    deployment_id: str
    total: Decimal
    currency: str = "USD"
    lines: list[EstimateLine] = Field(default_factory=list)
