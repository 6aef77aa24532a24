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
from modeldeck.schedules.spec import ScheduleSpec

Plan = Literal["ptu", "mu"]
Mode = Literal["instruct", "thinking"]
# ptu: hourly | upfront (prepaid by the day); mu: hourly | monthly.
BillingMethod = Literal["hourly", "upfront", "monthly"]
Surface = Literal["cli", "slack", "jupyter", "api", "system"]


def capacity_text(
    plan: str,
    units: int | None = None,
    input_tpm: int | None = None,
    output_tpm: int | None = None,
    thinking_output_tpm: int | None = None,
) -> str:
    """Capacity as every surface words it: `2 unit(s)` or `20,000 in / 2,000 out TPM`."""
    if plan == "mu":
        return f"{units or 0} unit(s)"
    text = f"{input_tpm or 0:,} in / {output_tpm or 0:,} out TPM"
    if thinking_output_tpm:
        text += f" / {thinking_output_tpm:,} thinking"
    return text


class DeploySpec(BaseModel):
    """What a deploy or an estimate asks for. Durations only matter to estimates."""

    # Built at import, unlike the models below: every estimate validates one, and FastAPI's
    # single-body-parameter route (`POST /api/estimate`) warns about a deferred model's alias.
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
    tags: dict[str, str] = Field(default_factory=dict)
    """Labels set at deploy time (`tags=team=search,cc=42`) that budgets' `tag:` scopes match."""

    @property
    def capacity(self) -> str:
        """The capacity asked for, in words (`capacity_text`)."""
        return capacity_text(
            self.plan, self.units, self.input_tpm, self.output_tpm, self.thinking_output_tpm
        )


class ScaleSpec(BaseModel):
    """A new absolute capacity for an existing deployment."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    deployment: str
    units: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None


class LimitsSpec(BaseModel):
    """New MU rate limits for an existing deployment."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    deployment: str
    rpm_limit: int | None = None
    tpm_limit: int | None = None


class RenewSpec(BaseModel):
    """Extend a prepaid (upfront) PTU order by `days`; `auto_renew` omitted means off."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    deployment: str
    days: int = Field(ge=1)
    auto_renew: bool | None = None


class EstimateLine(BaseModel):
    """One priced line: what, how much of it, at what rate, for how long."""

    model_config = ConfigDict(defer_build=True)

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

    model_config = ConfigDict(defer_build=True)

    ordered_at: datetime
    expires_at: datetime
    stops_at: datetime
    released_at: datetime
    extra_day: bool = False


class Cancellation(BaseModel):
    """Settlement of an upfront purchase cancelled within its first 30 days."""

    model_config = ConfigDict(defer_build=True)

    paid: DecimalStr
    billed_days: int
    settled: DecimalStr
    refund: DecimalStr


class Estimate(BaseModel):
    """The cost of a spec: exact total (round only to present), lines and rates used."""

    model_config = ConfigDict(defer_build=True)

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
    # PTU reservations (capacity instances and their deployments)
    WAIT_PRE_PAID_BILLING_TO_DEPLOYING = "WAIT_PRE_PAID_BILLING_TO_DEPLOYING"
    WAIT_TO_DEPLOY = "WAIT_TO_DEPLOY"
    WAIT_PRE_PAID_BILLING_TO_SCALING = "WAIT_PRE_PAID_BILLING_TO_SCALING"
    SCALING = "SCALING"
    STOPPING = "STOPPING"
    SUSPENDING = "SUSPENDING"
    SUSPENDED = "SUSPENDED"
    STARTING = "STARTING"
    RECOVERING = "RECOVERING"


# Every waiting or changing status: a change is under way, so a capacity that differs is not drift.
IN_FLIGHT_STATUSES = frozenset(
    {
        DeploymentStatus.PENDING,
        DeploymentStatus.DEPLOYING,
        DeploymentStatus.UPDATING,
        DeploymentStatus.DELETING,
        DeploymentStatus.OFFLINING,
        DeploymentStatus.ARREARS_RECOVERING,
        DeploymentStatus.WAIT_PRE_PAID_BILLING_TO_DEPLOYING,
        DeploymentStatus.WAIT_TO_DEPLOY,
        DeploymentStatus.WAIT_PRE_PAID_BILLING_TO_SCALING,
        DeploymentStatus.SCALING,
        DeploymentStatus.STOPPING,
        DeploymentStatus.SUSPENDING,
        DeploymentStatus.STARTING,
        DeploymentStatus.RECOVERING,
    }
)


def in_flight(status: str) -> bool:
    """True for every waiting or changing status (any `WAIT_*` one too, known or not)."""
    text = str(status).upper()
    return text in IN_FLIGHT_STATUSES or text.startswith("WAIT_")


class DeploymentRecord(BaseModel):
    """A deployment as modeldeck knows it (store row, synced from the provider)."""

    model_config = ConfigDict(defer_build=True)

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
    price_note: str | None = Field(
        default=None, description="Set when what it bills is not known (price not listed)."
    )
    tags: dict[str, str] = Field(default_factory=dict)
    """Set at deploy time from the request's spec; imported deployments have none."""

    @property
    def capacity(self) -> str:
        """The deployment's capacity, in words (`capacity_text`)."""
        return capacity_text(
            self.plan, self.units, self.input_tpm, self.output_tpm, self.thinking_output_tpm
        )


RequestKind = Literal["deploy", "scale", "unpublish", "limits", "renew", "schedule"]


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    EXPIRED = "expired"
    STALE = "stale"  # its target changed or vanished before it was approved (`error` says why)
    WITHDRAWN = "withdrawn"  # its requester took it back while it was pending


class PolicyDecision(BaseModel):
    """How a request gets approved and why (shown on the request card)."""

    model_config = ConfigDict(defer_build=True)

    auto_approve: bool
    approvers_required: int = 1
    rule: str
    approver_role: str = "approver"


class Decision(BaseModel):
    """One approver's vote on a request."""

    model_config = ConfigDict(defer_build=True)

    principal: str
    surface: Surface
    verdict: Literal["approve", "reject"]
    reason: str | None = None
    at: datetime


class BudgetEffect(BaseModel):
    """A request's effect on one budget's forecast (USD): now, with the request, and the
    thresholds it would make the forecast reach; shown on every request card."""

    model_config = ConfigDict(defer_build=True)

    budget: str
    scope: str
    hard: bool = False
    amount: DecimalStr
    period_end: datetime | None = None
    before: DecimalStr  # the period's forecast without the request
    after: DecimalStr  # with it
    crosses: list[int] = Field(default_factory=list)  # thresholds (percent) newly reached
    needs_admin: bool = False  # a hard budget left (further) over: an admin must approve

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def before_percent(self) -> Decimal:
        return self.before * 100 / self.amount if self.amount else Decimal(0)

    @property
    def after_percent(self) -> Decimal:
        return self.after * 100 / self.amount if self.amount else Decimal(0)


class RequestRecord(BaseModel):
    """A change that costs money, from request to outcome."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: RequestKind
    status: RequestStatus
    requester: str
    surface: Surface
    reason: str | None = None
    deploy: DeploySpec | None = None
    scale: ScaleSpec | None = None
    limits: LimitsSpec | None = None
    renew: RenewSpec | None = None
    schedule: ScheduleSpec | None = None
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
    # The complete state a scale/limits request is approved for, filled at request time from the
    # deployment: `target` is the absolute capacity and billing that will run, `basis` the
    # deployment's capacity when it was asked (a different one later makes the request stale).
    target: DeploySpec | None = None
    basis: dict[str, Any] | None = None
    idempotency_key: str | None = None
    # Its effect on every budget whose scope it matches, computed when it was asked;
    # `budget_effect_unknown` says why no effect could be computed (never a silent blank).
    budget_effect: list[BudgetEffect] = Field(default_factory=list)
    budget_effect_unknown: str | None = None

    @property
    def summary(self) -> str:
        if self.deploy is not None:
            d = self.deploy
            return f"deploy {d.model} {d.plan} {d.billing} ({d.capacity})"
        if self.scale is not None:
            s = self.scale
            plan = "mu" if s.units is not None else "ptu"
            cap = capacity_text(plan, s.units, s.input_tpm, s.output_tpm, s.thinking_output_tpm)
            return f"scale {s.deployment} to {cap}"
        if self.limits is not None:
            return f"set limits on {self.limits.deployment}"
        if self.renew is not None:
            return f"renew {self.renew.deployment} for {self.renew.days} day(s)"
        if self.schedule is not None:
            return f"schedule {self.schedule.deployment}: {self.schedule.describe()}"
        return f"{self.kind} {self.deployment_id or ''}".strip()

    @property
    def approvers(self) -> list[str]:
        """Who approved so far, each once, in order; the requester never counts."""
        seen = [
            d.principal
            for d in self.decisions
            if d.verdict == "approve" and d.principal != self.requester
        ]
        return list(dict.fromkeys(seen))

    @property
    def approvals_so_far(self) -> int:
        """Approvals that count toward the policy (distinct approvers, never the requester)."""
        return len(self.approvers)

    @property
    def approvals_required(self) -> int:
        """Approvals the policy asks for (at least one while the request waits)."""
        required = self.policy.approvers_required
        return max(1, required) if self.status == RequestStatus.PENDING else required

    @property
    def approvals_remaining(self) -> int:
        """How many more approvals the request needs (0 once it has enough)."""
        return max(0, self.approvals_required - self.approvals_so_far)


class Actor(BaseModel):
    """Who is acting, and from where."""

    model_config = ConfigDict(defer_build=True)

    principal: str
    surface: Surface
    roles: list[str] = Field(default_factory=list)
    external_id: str | None = None


class DecisionOutcome(BaseModel):
    """The truthful answer to an approver: what their click did."""

    model_config = ConfigDict(defer_build=True)

    request: RequestRecord
    outcome: Literal["recorded", "rejected", "already_decided", "executed", "failed"]
    message: str


class WithdrawOutcome(BaseModel):
    """The truthful answer to a requester taking a request back: what their withdraw did."""

    model_config = ConfigDict(defer_build=True)

    request: RequestRecord
    outcome: Literal["withdrawn", "already_decided"]
    message: str


class Usage(BaseModel):
    """Spend and capacity figures for a deployment over a period (filled by billing)."""

    model_config = ConfigDict(defer_build=True)

    deployment_id: str
    total: Decimal
    currency: str = "USD"
    lines: list[EstimateLine] = Field(default_factory=list)
