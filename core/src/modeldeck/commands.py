"""Run one parsed command against a deck: the same command does the same thing everywhere.

`run_command(deck, command, actor)` returns the verb's typed result (`modeldeck.results`).
Built-in verbs are mapped here; a plugin's verb runs its registered handler. A verb that makes a
request passes the surface's `idempotency_key` on, so a replayed submission makes no second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from modeldeck import grammar as g
from modeldeck import identity
from modeldeck import results as r
from modeldeck.domain import Actor
from modeldeck.errors import GrammarError, UserError
from modeldeck.schedules.views import ScheduleView
from modeldeck.settings import Settings, config_error

if TYPE_CHECKING:
    from modeldeck.deck import Deck


def next_changes(views: list[ScheduleView]) -> dict[str, r.ScheduledChange]:
    """The next scheduled change of each deployment (by deployment id)."""
    return {v.deployment_id: v.next_change for v in views if v.next_change is not None}


def run_command(
    deck: Deck, command: g.CommandModel, actor: Actor, *, idempotency_key: str | None = None
) -> r.Result:
    """Run `command`; user mistakes raise UserError subclasses for the surface to show."""
    key = idempotency_key
    if isinstance(command, g.HelpCommand):
        return r.HelpResult(topic=command.topic)
    if isinstance(command, g.ModelsCommand):
        return r.ModelsResult(rows=[r.CatalogRow.model_validate(row) for row in deck.models()])
    if isinstance(command, g.EstimateCommand):
        est = deck.estimate(command.spec)
        if command.spec.compare:
            return r.ComparisonResult(estimate=est)
        return r.EstimateResult(estimate=est)
    if isinstance(command, g.DeployCommand):
        request = deck.request_deploy(command.spec, actor, command.reason, idempotency_key=key)
        return _request("deploy", request)
    if isinstance(command, g.ScaleCommand):
        window = command.window()  # `from=`/`until=`: a one-off window, a schedule request
        if window is not None:
            request = deck.request_schedule(window, actor, command.reason, idempotency_key=key)
            return _request("scale", request)
        request = deck.request_scale(command.spec, actor, command.reason, idempotency_key=key)
        return _request("scale", request)
    if isinstance(command, g.ScheduleCommand):
        request = deck.request_schedule(command.spec, actor, command.reason, idempotency_key=key)
        return _request("schedule", request)
    if isinstance(command, g.UnscheduleCommand):
        view = deck.cancel_schedule(command.schedule_id, actor, command.reason)
        return r.SchedulesResult(schedules=[view])
    if isinstance(command, g.SchedulesCommand):
        identity.require(actor, "read")
        return r.SchedulesResult(schedules=deck.schedules())
    if isinstance(command, g.RenewCommand):
        request = deck.request_renew(command.spec, actor, command.reason, idempotency_key=key)
        return _request("renew", request)
    if isinstance(command, g.LimitsCommand):
        request = deck.request_limits(command.spec, actor, command.reason, idempotency_key=key)
        return _request("limits", request)
    if isinstance(command, g.UnpublishCommand):
        if not command.confirm:
            dep = deck.get_deployment(command.deployment)
            raise UserError(
                f"Unpublishing {dep.deployed_model or dep.id} takes it offline at once and cannot "
                "be undone.",
                hint=f"Repeat with `confirm`: unpublish {dep.deployed_model or dep.id} confirm",
            )
        request = deck.request_unpublish(
            command.deployment, actor, command.reason, idempotency_key=key
        )
        return _request("unpublish", request)
    if isinstance(command, g.ListCommand):
        deps = deck.list_deployments(include_deleted=command.include_deleted)
        return r.DeploymentsResult(
            deployments=deps,
            include_deleted=command.include_deleted,
            next_changes=next_changes(deck.schedules()),
        )
    if isinstance(command, g.StatusCommand):
        dep = deck.get_deployment(command.deployment)
        spent = _cost_report(deck, dep.id, "all")
        return r.DeploymentStatusResult(
            schedule=schedule_of(deck.schedules(), dep.id),
            deployment=dep,
            cost_so_far=spent.total,
            currency=spent.currency,
            unpriced=[
                f"{line.description}. {line.override or ''}".strip()
                for d in spent.deployments
                for line in d.lines
                if not line.price_known
            ],
        )
    if isinstance(command, g.ApprovalsCommand):
        return r.ApprovalsResult(requests=deck.list_requests(status="pending"))
    if isinstance(command, g.ApproveCommand):
        return r.DecisionResult(outcome=deck.approve(command.request_id, actor))
    if isinstance(command, g.RejectCommand):
        return r.DecisionResult(outcome=deck.reject(command.request_id, actor, command.reason))
    if isinstance(command, g.WithdrawCommand):
        withdrawn = deck.withdraw(command.request_id, actor)
        return r.RequestResult(verb="withdraw", request=withdrawn.request)
    if isinstance(command, g.CostCommand):
        if command.forecast:
            return r.ForecastResult(report=deck.forecast(command.target, command.period))
        return r.CostResult(report=_cost_report(deck, command.target, command.period))
    if isinstance(command, g.PlanCommand):
        return _plan(deck, command, actor, key)
    if isinstance(command, g.BudgetCommand):
        if command.action == "set":
            fields = {
                "name": command.name,
                "amount_usd": command.amount,
                "scope": command.scope,
                "period": command.period,
                "hard": command.hard,
                "thresholds": command.thresholds,
            }
            return r.BudgetSetResult(budget=deck.set_budget(fields, actor))
        return r.BudgetResult(report=deck.budgets())
    if isinstance(command, g.AlertsCommand):
        return r.AlertsResult(report=deck.alerts())
    info = g.all_verbs().get(command.verb)
    if info is not None and info.handler is not None:
        result: Any = info.handler(deck, command, actor)
        if not isinstance(result, r.Result):
            raise TypeError(f"The {command.verb!r} verb's handler returned no Result.")
        return result
    raise GrammarError(f"The command {command.verb!r} is not available here.", hint="Try `help`.")


def run_without_store(
    command: g.CommandModel, settings: Settings, *, remote: bool = False
) -> r.Result | None:
    """`help` always, and `models`/`estimate`/`compare` when no server is configured, answered
    from the grammar and the catalog alone: nothing opens or migrates a store for them.
    None: the command needs a deck."""
    if isinstance(command, g.HelpCommand):
        return r.HelpResult(topic=command.topic)
    if isinstance(command, g.PlanCommand):
        return None if remote else _plan_without_store(command, settings)
    if remote or not isinstance(command, g.ModelsCommand | g.EstimateCommand):
        return None
    from modeldeck.billing import estimate
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import load_catalog

    catalog = load_catalog(settings)
    if isinstance(command, g.ModelsCommand):
        return r.ModelsResult(rows=[r.CatalogRow.model_validate(row) for row in catalog.rows()])
    try:
        rules = BillingRules.model_validate(settings.billing)
    except ValidationError as exc:
        raise config_error(
            exc,
            "[billing] rules in the configuration",
            "See docs/billing.md for each rule and its allowed values.",
        ) from None
    est = estimate(command.spec, catalog, rules)
    return (
        r.ComparisonResult(estimate=est) if command.spec.compare else r.EstimateResult(estimate=est)
    )


def _plan(
    deck: Deck, command: g.PlanCommand, actor: Actor, key: str | None
) -> r.CapacityPlanResult:
    from modeldeck.workflow import planning

    identity.require(actor, "read")
    spec = command.spec
    dep = deck.get_deployment(spec.deployment) if spec.deployment else None
    result = deck.plan(spec)
    request = None
    if command.apply:
        request = planning.apply_option(
            deck,
            result,
            actor,
            option=command.option,
            deployment=dep,
            reason=command.reason,
            idempotency_key=key,
        )
    return r.CapacityPlanResult(
        plan=result, deployment=dep.deployed_model or dep.id if dep else None, request=request
    )


def _plan_without_store(command: g.PlanCommand, settings: Settings) -> r.Result | None:
    """A CSV (or Prometheus) plan that applies nothing needs only the catalog and the rules."""
    if command.apply or command.spec.deployment is not None:
        return None
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import load_catalog
    from modeldeck.workflow import planning

    try:
        rules = BillingRules.model_validate(settings.billing)
    except ValidationError as exc:
        raise config_error(
            exc,
            "[billing] rules in the configuration",
            "See docs/billing.md for each rule and its allowed values.",
        ) from None
    result = planning.make_plan(command.spec, settings, load_catalog(settings), rules)
    return r.CapacityPlanResult(plan=result)


def schedule_of(views: list[ScheduleView], dep_id: str) -> ScheduleView | None:
    """The deployment's active schedule, else its newest (paused or finished) one."""
    mine = [v for v in views if v.deployment_id == dep_id]
    active = [v for v in mine if v.state == "active"]
    chosen = active or mine
    return chosen[-1] if chosen else None


def _cost_report(deck: Deck, target: str | None, period: str) -> r.CostReport:
    return deck.cost(target, period)


def _request(verb: str, request: Any) -> r.RequestResult:
    return r.RequestResult(verb=verb, request=request)
