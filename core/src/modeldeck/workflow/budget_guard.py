"""A request's effect on the budgets, for its card, and hard budgets: a deploy, scale or
schedule whose exact extra spend would leave a hard budget's forecast above its amount needs an
admin's approval, and the rule names the budget. An unpublish's effect (a saving) is shown too.

Hourly capacity is priced with `billing.impact.change_cost` (the reserved accrual from now to the
budget period's end, before and after); a prepaid order counts in full in the period it is
placed (accrual's rule), so its estimate's total is the extra.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from modeldeck.billing.accrual import CapacityEvent, DeploymentHistory
from modeldeck.billing.forecast import BudgetForecast
from modeldeck.billing.impact import BudgetImpact, budget_impact, change_cost
from modeldeck.budgets.models import Budget, BudgetTarget
from modeldeck.domain import BudgetEffect, PolicyDecision, RequestRecord
from modeldeck.errors import ModeldeckError
from modeldeck.money import format_amount
from modeldeck.spend.histories import StoredHistory, load_histories
from modeldeck.spend.overview import spend_overview
from modeldeck.workflow.context import WorkflowContext

log = logging.getLogger(__name__)


def _change(
    ctx: WorkflowContext, request: RequestRecord, now: datetime
) -> tuple[BudgetTarget, DeploymentHistory | None, DeploymentHistory, Decimal | None] | None:
    """The deployment the request changes, its history before and after, and (for a prepaid
    order) its full price; None for requests that never add spend."""
    if request.kind == "deploy" and request.deploy is not None:
        spec = request.deploy
        code = f"{spec.model}-{spec.suffix}" if spec.suffix else None
        target = BudgetTarget(id="new", deployed_model=code, name=spec.name, tags=spec.tags)
        after = DeploymentHistory(
            deployment_id="new",
            model=spec.model,
            plan=spec.plan,
            mode=spec.mode,
            billing=spec.billing,
            events=[
                CapacityEvent(
                    at=now,
                    kind="created",
                    units=spec.units,
                    input_tpm=spec.input_tpm,
                    output_tpm=spec.output_tpm,
                    thinking_output_tpm=spec.thinking_output_tpm,
                )
            ],
        )
        prepaid = None
        if spec.billing != "hourly" and request.estimate is not None:
            estimate = request.estimate
            prepaid = ctx.catalog.convert(Decimal(estimate.total), estimate.currency, "USD")
        return target, None, after, prepaid
    if request.kind == "schedule" and request.schedule is not None and request.deployment_id:
        # every change the schedule would make within a year (longer than any budget period)
        from modeldeck.schedules.calendar import changes_between

        found = _stored(ctx, request.deployment_id)
        if found is None:
            return None
        row, before = found.row, found.history
        target = BudgetTarget(
            id=row.id, deployed_model=row.deployed_model, name=row.name, tags=row.tags or {}
        )
        planned = [
            CapacityEvent(at=c.at, kind="scaled", **c.level.model_dump())
            for c in changes_between(request.schedule, now, now + timedelta(days=366))
        ]
        return (
            target,
            before,
            before.model_copy(update={"events": [*before.events, *planned]}),
            None,
        )
    if request.kind == "scale" and request.scale is not None and request.deployment_id:
        scale = request.scale
        found = _stored(ctx, request.deployment_id)
        if found is None:
            return None
        row, before = found.row, found.history
        target = BudgetTarget(
            id=row.id, deployed_model=row.deployed_model, name=row.name, tags=row.tags or {}
        )
        scaled = CapacityEvent(
            at=now,
            kind="scaled",
            units=scale.units if row.plan == "mu" else None,
            input_tpm=(scale.input_tpm or row.input_tpm) if row.plan == "ptu" else None,
            output_tpm=(scale.output_tpm if scale.output_tpm is not None else row.output_tpm)
            if row.plan == "ptu"
            else None,
            thinking_output_tpm=scale.thinking_output_tpm
            if scale.thinking_output_tpm is not None
            else row.thinking_output_tpm,
        )
        after = before.model_copy(update={"events": [*before.events, scaled]})
        return target, before, after, None
    if request.kind == "unpublish" and request.deployment_id:
        found = _stored(ctx, request.deployment_id)
        if found is None:
            return None
        row, before = found.row, found.history
        target = BudgetTarget(
            id=row.id, deployed_model=row.deployed_model, name=row.name, tags=row.tags or {}
        )
        gone = CapacityEvent(at=now, kind="unpublished")
        after = before.model_copy(update={"events": [*before.events, gone]})
        return target, before, after, None
    return None


def _stored(ctx: WorkflowContext, deployment_id: str) -> StoredHistory | None:
    """One deployment's row and billing history from the store."""
    with ctx.store.session() as session:
        stored = load_histories(session, {deployment_id}, columns=ctx.catalog)
    return next((s for s in stored if s.row.id == deployment_id), None)


def budget_effects(
    ctx: WorkflowContext,
    request: RequestRecord,
    now: datetime,
    budgets: Sequence[Budget] | None = None,
) -> list[BudgetEffect]:
    """The request's effect on every budget (default: all in force) whose scope matches the
    deployment it changes: the forecast now and with it, and the thresholds it would reach."""
    if budgets is None:
        from modeldeck.workflow.spend import effective_budgets

        budgets = [b for b, _ in effective_budgets(ctx)]
    if not budgets:
        return []
    change = _change(ctx, request, now)
    if change is None:
        return []
    target, before, after, prepaid = change
    matching = [b for b in budgets if b.scope.matches(target)]
    if not matching:
        return []
    with ctx.store.session() as session:
        overview = spend_overview(
            session, ctx.catalog, now=now, budgets=matching, settings=ctx.settings.alerts,
            rules=ctx.rules,
        )  # fmt: skip
    out: list[BudgetEffect] = []
    for item in overview.budgets:
        extra = (
            prepaid
            if prepaid is not None
            else change_cost(before, after, now, item.period_end, ctx.catalog, ctx.rules)
        )
        out.extend(effect_of(item, i) for i in budget_impact([item], target, extra))
    return out


def effect_of(item: BudgetForecast, impact: BudgetImpact) -> BudgetEffect:
    """A budget impact as the request card carries it (thresholds reached by the forecast)."""
    budget = item.budget
    return BudgetEffect(
        budget=budget.name,
        scope=str(budget.scope),
        hard=budget.hard,
        amount=budget.amount_usd,
        period_end=item.period_end,
        before=impact.before,
        after=impact.after,
        crosses=[
            t for t in budget.thresholds if impact.before < budget.amount_at(t) <= impact.after
        ],
        needs_admin=impact.needs_admin,
    )


def card_effects(
    ctx: WorkflowContext, request: RequestRecord, now: datetime
) -> tuple[list[BudgetEffect], str | None]:
    """Every budget effect for the request's card, or why none could be computed.

    An error (e.g. a price or currency rate the forecast needs) is raised when a hard budget is
    in force, since its guard cannot decide without it; with soft budgets only, the request is
    still stored and its card says the effect is unknown.
    """
    from modeldeck.workflow.spend import effective_budgets

    budgets = [b for b, _ in effective_budgets(ctx)]
    try:
        return budget_effects(ctx, request, now, budgets), None
    except ModeldeckError as exc:
        if any(b.hard for b in budgets):
            raise
        log.warning("budget effect of %s unknown: %s", request.id, exc)
        return [], f"the budgets' forecast could not be computed: {exc}"


def hard_budget_impacts(
    ctx: WorkflowContext, request: RequestRecord, now: datetime
) -> list[BudgetEffect]:
    """The hard budgets this request would push (further) over its amount."""
    from modeldeck.workflow.spend import effective_budgets

    hard = [b for b, _ in effective_budgets(ctx) if b.hard]
    if not hard:
        return []
    return [e for e in budget_effects(ctx, request, now, hard) if e.needs_admin]


def guard(
    ctx: WorkflowContext,
    request: RequestRecord,
    decision: PolicyDecision,
    now: datetime,
    effects: Sequence[BudgetEffect] | None = None,
) -> PolicyDecision:
    """The policy's decision, turned into "an admin must approve" when a hard budget is hit.

    `effects`: the request's budget effects when already computed (else they are computed).
    """
    impacts = (
        [e for e in effects if e.needs_admin]
        if effects is not None
        else hard_budget_impacts(ctx, request, now)
    )
    if not impacts:
        return decision
    named = "; ".join(
        f"hard budget {i.budget}: forecast {format_amount(i.after)} > "
        f"{format_amount(i.amount)} (+{format_amount(i.change)})"
        for i in impacts
    )
    return decision.model_copy(
        update={
            "auto_approve": False,
            "approver_role": "admin",
            "approvers_required": max(decision.approvers_required, 1),
            "rule": f"{named}: needs an admin's approval (was: {decision.rule})",
        }
    )
