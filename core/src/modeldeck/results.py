"""Typed results: what running one command produced, for every surface to render.

Each verb returns one of these (a plugin's verb returns its own `Result` subclass). Figures the
surfaces show - approval counts, the comparison verdict, capacity text - are computed here or on
the domain models, once. `text` is the core's text rendering (see `modeldeck.rendering`);
`RemoteDeck` reads a result back from JSON by its `kind` (`result_from_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from modeldeck.billing.verdict import ComparisonVerdict, comparison_verdict
from modeldeck.budgets.models import Budget
from modeldeck.domain import (
    DecisionOutcome,
    DeploymentRecord,
    Estimate,
    RequestRecord,
    RequestStatus,
)
from modeldeck.errors import ModeldeckError
from modeldeck.money import DecimalStr, to_decimal
from modeldeck.planner.result import PlanResult
from modeldeck.schedules.views import ScheduledChange, ScheduleView
from modeldeck.workflow.costs import CostReport, DeploymentCost
from modeldeck.workflow.spend import AlertsReport, BudgetReport, ForecastReport

__all__ = [
    "AlertsResult",
    "ApprovalsResult",
    "BudgetResult",
    "BudgetSetResult",
    "CapacityPlanResult",
    "CatalogRow",
    "ComparisonResult",
    "CostReport",
    "CostResult",
    "DecisionResult",
    "DeploymentCost",
    "DeploymentStatusResult",
    "DeploymentsResult",
    "EstimateResult",
    "ForecastResult",
    "HelpResult",
    "ModelsResult",
    "RequestResult",
    "Result",
    "ScheduledChange",
    "SchedulesResult",
    "cost_scope",
    "result_from_json",
]

RESULT_TYPES: dict[str, type[Result]] = {}

Money = Annotated[
    Decimal,
    BeforeValidator(to_decimal),  # a float is refused (TypeError): money is never inexact
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
]


class Result(BaseModel):
    """Base of every command result; subclasses set `kind` (a Literal) to a unique name."""

    # Validators are built on a result type's first use, not at import: a CLI call makes one
    # or two of the dozens defined here (issue 15, CLI start-up).
    model_config = ConfigDict(defer_build=True)

    kind: str
    types: ClassVar[dict[str, type[Result]]] = RESULT_TYPES

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str) and kind:
            RESULT_TYPES[kind] = cls

    @property
    def ok(self) -> bool:
        """False when the command ran but what it asked for failed (exit code 1 on the CLI)."""
        return True

    @property
    def text(self) -> str:
        """The core's plain-text rendering of this result (the same words everywhere)."""
        from modeldeck.rendering import render

        rendered: str = render(self, "text")
        return rendered


def result_from_json(data: Mapping[str, Any]) -> Result:
    """A result sent as JSON, as its own type (by `kind`)."""
    kind = str(data.get("kind", ""))
    cls = RESULT_TYPES.get(kind)
    if cls is None:
        raise ModeldeckError(f"The server answered with a result of unknown kind {kind!r}.")
    return cls.model_validate(dict(data))


class HelpResult(Result):
    """`help [topic]`: the topic asked about (the text renderer writes the help)."""

    kind: Literal["help"] = "help"
    topic: str | None = None


class CatalogRow(BaseModel):
    """One price of the catalog: `amount` None means not listed (never $0)."""

    model: str
    mode: str
    plan: str
    billing: str | None = None
    price: str
    tier: str | None = None
    amount: DecimalStr | None = None
    listed: bool = True
    unit: str | None = None
    currency: str = "USD"
    source: str | None = None
    as_of: str | None = None
    # The model's limits (None: the catalog does not know them) and where they come from.
    max_context: int | None = None
    max_input: int | None = None
    context_fixed: bool = False
    limits_source: str | None = None
    limits_as_of: str | None = None


class ModelsResult(Result):
    """`models`: the catalog, one row per price."""

    kind: Literal["models"] = "models"
    rows: list[CatalogRow] = Field(default_factory=list)


class EstimateResult(Result):
    """`estimate ...`: what a spec would cost."""

    kind: Literal["estimate"] = "estimate"
    estimate: Estimate


class ComparisonResult(Result):
    """`compare ...` / `estimate ... compare`: the estimate, both billing methods side by side."""

    kind: Literal["comparison"] = "comparison"
    estimate: Estimate

    @property
    def verdict(self) -> ComparisonVerdict | None:
        """Which method wins and by how much (None when the estimate has no comparison rows)."""
        rows = self.estimate.comparison or []
        return comparison_verdict(rows) if len(rows) >= 2 else None


class RequestResult(Result):
    """`deploy`, `scale`, `limits`, `unpublish`: the request as stored (maybe executed)."""

    kind: Literal["request"] = "request"
    verb: str
    request: RequestRecord

    @property
    def ok(self) -> bool:
        return self.request.status != RequestStatus.FAILED


class DecisionResult(Result):
    """`approve` / `reject`: what the click did."""

    kind: Literal["decision"] = "decision"
    outcome: DecisionOutcome

    @property
    def ok(self) -> bool:
        return self.outcome.outcome != "failed"


class DeploymentsResult(Result):
    """`list [all]`: the deployments."""

    kind: Literal["deployments"] = "deployments"
    deployments: list[DeploymentRecord] = Field(default_factory=list)
    include_deleted: bool = False
    next_changes: dict[str, ScheduledChange] = Field(
        default_factory=dict, description="The next scheduled capacity change, by deployment id."
    )


class DeploymentStatusResult(Result):
    """`status <deployment>`: one deployment and what it has cost since it was created."""

    kind: Literal["deployment_status"] = "deployment_status"
    deployment: DeploymentRecord
    cost_so_far: Money
    currency: str = "USD"
    unpriced: list[str] = Field(
        default_factory=list, description="Lines left out of cost_so_far: price not listed."
    )
    schedule: ScheduleView | None = Field(
        default=None, description="Its newest schedule (active or paused) and next change."
    )


class SchedulesResult(Result):
    """`schedules`: every capacity schedule, its state and its next change."""

    kind: Literal["schedules"] = "schedules"
    schedules: list[ScheduleView] = Field(default_factory=list)


class ApprovalsResult(Result):
    """`approvals`: the requests waiting for a decision."""

    kind: Literal["approvals"] = "approvals"
    requests: list[RequestRecord] = Field(default_factory=list)


class CostResult(Result):
    """`cost [<deployment>|all] [period=...]`: the workflow's typed cost report."""

    kind: Literal["cost"] = "cost"
    report: CostReport

    @property
    def scope(self) -> str:
        """`all deployments`, or the deployment asked about."""
        return cost_scope(self.report)


class CapacityPlanResult(Result):
    """`plan <model> …`: every option priced and ranked; with `apply`, the request it made."""

    kind: Literal["plan"] = "plan"
    plan: PlanResult
    deployment: str | None = None
    request: RequestRecord | None = None

    @property
    def ok(self) -> bool:
        return self.request is None or self.request.status != RequestStatus.FAILED


class ForecastResult(Result):
    """`cost … forecast`: per deployment, spend to date, reserved to come, projected overflow."""

    kind: Literal["forecast"] = "forecast"
    report: ForecastReport


class BudgetResult(Result):
    """`budget`: every budget in force with its spend, forecast, thresholds and status."""

    kind: Literal["budget"] = "budget"
    report: BudgetReport


class BudgetSetResult(Result):
    """`budget set …`: the budget as stored (shared by every replica)."""

    kind: Literal["budget_set"] = "budget_set"
    budget: Budget


class AlertsResult(Result):
    """`alerts`: the alerts this evaluation raised and every alert of the month so far."""

    kind: Literal["alerts"] = "alerts"
    report: AlertsReport


def cost_scope(report: CostReport) -> str:
    """Who a cost report is about, in words."""
    from modeldeck.render import cost_scope as scope

    return scope(report)
