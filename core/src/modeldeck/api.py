"""The deck interface every surface programs against.

`modeldeck.deck.Deck` implements it in-process (store + provider);
`modeldeck.server.client.RemoteDeck` implements it over the server's REST API,
so a notebook or bot works the same in single-user and team mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modeldeck.domain import (
    Actor,
    DecisionOutcome,
    DeploymentRecord,
    DeploySpec,
    Estimate,
    LimitsSpec,
    RenewSpec,
    RequestRecord,
    ScaleSpec,
    Surface,
    WithdrawOutcome,
)

if TYPE_CHECKING:
    from modeldeck.budgets.models import Budget
    from modeldeck.charts.data import SpendChart, UsageChart
    from modeldeck.grammar import CommandModel
    from modeldeck.metering.playground import PlaygroundEvent
    from modeldeck.planner import PlanResult
    from modeldeck.planner.spec import PlanSpec
    from modeldeck.results import Result
    from modeldeck.schedules.spec import ScheduleSpec
    from modeldeck.schedules.views import ScheduleView
    from modeldeck.workflow.costs import CostReport
    from modeldeck.workflow.spend import AlertsReport, BudgetReport, ForecastReport


@runtime_checkable
class DeckAPI(Protocol):
    """Estimate, request, decide and look at deployments."""

    def models(self) -> list[dict[str, Any]]:
        """The catalog as JSON-able rows (model, mode, plan, prices with source and as_of)."""
        ...

    def estimate(self, spec: DeploySpec) -> Estimate:
        """Price a spec; raises UserError subclasses for invalid specs or unlisted prices."""
        ...

    def request_deploy(
        self,
        spec: DeploySpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Store a deploy request (auto-approved and executed if the policy says so).

        `idempotency_key` identifies the submission (REST Idempotency-Key, Slack trigger_id,
        notebook click id): a replay by the same requester answers with the first request.
        """
        ...

    def request_scale(
        self,
        spec: ScaleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord: ...

    def request_limits(
        self,
        spec: LimitsSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Store a request to change a deployment's RPM/TPM limits."""
        ...

    def request_renew(
        self,
        spec: RenewSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Store a request to extend a deployment's upfront PTU order by `spec.days`."""
        ...

    def request_schedule(
        self,
        spec: ScheduleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        """Store a schedule (weekly levels, or a one-off window) request, priced for its
        maximum cost (docs/schedules.md)."""
        ...

    def schedules(self) -> list[ScheduleView]:
        """Every capacity schedule: state, next change, why one is paused."""
        ...

    def cancel_schedule(
        self, schedule_id: str, actor: Actor, reason: str | None = None
    ) -> ScheduleView:
        """End a schedule (active or paused); the deployment keeps the capacity it has."""
        ...

    def request_unpublish(
        self,
        deployment: str,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord: ...

    def approve(self, request_id: str, actor: Actor) -> DecisionOutcome:
        """Record an approval (compare-and-set); executes once enough approvals are in."""
        ...

    def reject(
        self, request_id: str, actor: Actor, reason: str | None = None
    ) -> DecisionOutcome: ...

    def withdraw(self, request_id: str, actor: Actor) -> WithdrawOutcome:
        """The requester takes back their own pending request (PermissionDenied for others)."""
        ...

    def resolve_request(
        self, request_id: str, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        """An admin ends a stuck (approved or executing) request as failed, with who and why."""
        ...

    def get_request(self, request_id: str) -> RequestRecord: ...

    def list_requests(self, status: str | None = None) -> list[RequestRecord]: ...

    def set_request_ref(self, request_id: str, key: str, value: str) -> None:
        """Remember where a surface shows the request (e.g. Slack channel and message ts)."""
        ...

    def list_deployments(self, include_deleted: bool = False) -> list[DeploymentRecord]: ...

    def get_deployment(self, ref: str) -> DeploymentRecord:
        """By local id, deployed model code or display name (case-insensitive)."""
        ...

    def cost(self, target: str | None = None, period: str | None = None) -> CostReport:
        """Spend of one deployment (or `all`) over a period (`month`, `week`, `all`, a date...)."""
        ...

    def plan(self, spec: PlanSpec) -> PlanResult:
        """Price a usage trace under every way of buying capacity (docs/planner.md)."""
        ...

    def budgets(self) -> BudgetReport:
        """Every budget in force with spend to date, forecast, thresholds and status."""
        ...

    def set_budget(self, fields: dict[str, Any], actor: Actor) -> Budget:
        """Add or replace a budget (name, amount_usd, scope, period, hard, thresholds); admins."""
        ...

    def forecast(self, target: str | None = None, period: str | None = None) -> ForecastReport:
        """Per deployment (or one): spend to date, reserved to come, projected overflow."""
        ...

    def alerts(self) -> AlertsReport:
        """Evaluate the alert rules once, raise what is due (once each), list this month's."""
        ...

    def playground(self, ref: str, prompt: str, max_tokens: int = 256) -> Iterator[PlaygroundEvent]:
        """Stream a prompt to a RUNNING deployment through the metering client (the call lands
        in `cost`): `delta` events, then one `call` with tokens, latency, overflow and cost."""
        ...

    def usage_chart(self, ref: str, since: datetime, until: datetime) -> UsageChart:
        """Input tokens per minute of a PTU deployment against its purchased input TPM."""
        ...

    def budget_chart(self, name: str) -> SpendChart:
        """A budget's spend over its period: actual per day, the forecast, the budget line."""
        ...

    def refresh(self) -> list[DeploymentRecord]:
        """Sync deployment statuses from the provider, firing hooks on changes."""
        ...

    def resolve_actor(self, surface: Surface, external_id: str) -> Actor:
        """Map a Slack user id / notebook user to a principal; NotLinked if unknown."""
        ...

    def run(
        self, command: CommandModel, actor: Actor, *, idempotency_key: str | None = None
    ) -> Result:
        """Run one parsed command (`modeldeck.grammar.parse` where the text was typed).

        Returns the verb's typed result (`modeldeck.results`); render it with
        `modeldeck.rendering.render(result, surface)`. `idempotency_key` identifies the
        submission when the command makes a request (Slack's trigger_id, a notebook click):
        a replay answers with the first request, as the request methods do.
        """
        ...
