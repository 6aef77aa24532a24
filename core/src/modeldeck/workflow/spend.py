"""Spend control for the surfaces: the budget view, `budget set`, forecasts and raising alerts.

Budgets come from `[[budgets]]` in the configuration and from the store (`budget set`, shared
by replicas); a stored budget overrides the configured one of the same name. Alerts are raised
once per (kind, scope, period) through the store's claimed rows, and each newly raised alert is
published as an `AlertRaised` event.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from modeldeck import events, identity
from modeldeck.alerts.models import RaisedAlert
from modeldeck.billing.forecast import BudgetForecast, Forecast
from modeldeck.budgets.models import Budget, check_budget_period, period_bounds
from modeldeck.domain import Actor
from modeldeck.errors import UserError
from modeldeck.timeutil import ensure_aware, utcnow
from modeldeck.workflow.context import WorkflowContext

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported by the functions that read it, so the
    # report models below load without it (read-only CLI verbs import them)
    from modeldeck.spend.overview import SpendOverview

log = logging.getLogger(__name__)

BudgetSource = Literal["config", "store"]
BudgetStatus = Literal["ok", "threshold", "forecast overrun", "over"]


class BudgetLine(BaseModel):
    """One budget in the view: its forecast, where it was set, and its status in a word."""

    forecast: BudgetForecast
    source: BudgetSource = "config"

    @property
    def status(self) -> BudgetStatus:
        """`over` (spent), `forecast overrun`, `threshold` (one reached) or `ok`."""
        f = self.forecast
        if f.to_date >= f.budget.amount_usd:
            return "over"
        if f.overrun:
            return "forecast overrun"
        if f.crossed:
            return "threshold"
        return "ok"


class BudgetReport(BaseModel):
    """`budget`: every budget in force, with spend to date, forecast and thresholds."""

    now: datetime
    lines: list[BudgetLine] = Field(default_factory=list)


class ForecastReport(BaseModel):
    """`cost … forecast`: per deployment, to date, reserved to come, projected overflow."""

    target: str | None = None
    period: str = "month"
    period_start: datetime
    period_end: datetime
    now: datetime
    forecasts: list[Forecast] = Field(default_factory=list)


class AlertsReport(BaseModel):
    """`alerts`: what this evaluation raised (`new`) and every alert of the period so far."""

    now: datetime
    since: datetime
    new: list[RaisedAlert] = Field(default_factory=list)
    alerts: list[RaisedAlert] = Field(default_factory=list)


def effective_budgets(ctx: WorkflowContext) -> list[tuple[Budget, BudgetSource]]:
    """The configured budgets, each replaced by a stored one of the same name, then the others
    stored (in name order)."""
    from modeldeck.store import budgets as budget_rows

    with ctx.store.session() as session:
        stored = budget_rows.stored_budgets(session)
    by_name = {b["name"]: Budget.model_validate(b) for b in stored}
    out: list[tuple[Budget, BudgetSource]] = []
    for budget in ctx.settings.budgets:
        replaced = by_name.pop(budget.name, None)
        out.append((replaced, "store") if replaced is not None else (budget, "config"))
    out.extend((b, "store") for b in by_name.values())
    return out


def _overview(ctx: WorkflowContext, now: datetime, period: str = "month") -> SpendOverview:
    from modeldeck.spend.overview import spend_overview

    budgets = [b for b, _ in effective_budgets(ctx)]
    with ctx.store.session() as session:
        return spend_overview(
            session,
            ctx.catalog,
            now=now,
            budgets=budgets,
            settings=ctx.settings.alerts,
            rules=ctx.rules,
            period=period,
        )


def budget_report(ctx: WorkflowContext, now: datetime | None = None) -> BudgetReport:
    """The budget view at `now` (default: the current time)."""
    at = ensure_aware(now) if now is not None else utcnow()
    sources = {b.name: source for b, source in effective_budgets(ctx)}
    overview = _overview(ctx, at)
    return BudgetReport(
        now=at,
        lines=[
            BudgetLine(forecast=f, source=sources.get(f.budget.name, "config"))
            for f in overview.budgets
        ],
    )


def set_budget(
    ctx: WorkflowContext, fields: dict[str, Any], actor: Actor, now: datetime | None = None
) -> Budget:
    """Add or replace a budget in the store (admins only), audited, announced by an event.

    Fields not given keep the current budget's (when one of that name exists) or the defaults.
    """
    from modeldeck.store import budgets as budget_rows
    from modeldeck.store.audit_log import record_event

    identity.require(actor, "configure")
    at = ensure_aware(now) if now is not None else utcnow()
    name = str(fields.get("name") or "").strip()
    if not name:
        raise UserError(
            "budget set needs a name: budget set name=<name> amount=<USD> ...",
            hint="e.g. budget set name=llm-team amount=5000 scope=tag:team=search",
        )
    current = {b.name: b for b, _ in effective_budgets(ctx)}.get(name)
    base: dict[str, Any] = current.model_dump(mode="json") if current is not None else {}
    base.update({k: v for k, v in fields.items() if v is not None})
    base["name"] = name
    if "amount_usd" not in base:
        raise UserError(
            f"The new budget {name!r} needs an amount: add amount=<USD>, e.g. amount=5000."
        )
    try:
        budget = Budget.model_validate(base)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "budget"
        raise UserError(
            f"budget set: {where}: {problem['msg']}.",
            hint="Allowed: name=, amount=<USD>, scope=workspace|deployment:<ref>|tag:<k>=<v>, "
            "period=month|week|today|year|YYYY-MM|YYYY-MM-DD|<from>..<to>, hard=on|off, "
            "thresholds=50,80,100.",
        ) from None
    dumped = budget.model_dump(mode="json")
    dumped["scope"] = str(budget.scope)
    with ctx.store.session() as session:
        replaced = budget_rows.upsert_budget(session, dumped, actor.principal, at)
        event = events.BudgetChanged(
            actor=actor.principal, surface=actor.surface, budget=dumped, replaced=replaced, at=at
        )
        record_event(session, event)
    ctx.emit(event)
    return budget


def forecast_report(
    ctx: WorkflowContext,
    target: str | None = None,
    period: str | None = None,
    now: datetime | None = None,
) -> ForecastReport:
    """Forecasts of one deployment (or all) over a period that has an end still to come."""
    at = ensure_aware(now) if now is not None else utcnow()
    name = period or "month"
    try:
        name = check_budget_period(name)
        bounds = period_bounds(name, at)
    except (ValueError, UserError) as exc:
        raise UserError(
            f"A forecast needs a period with an end still to come: {exc}",
            hint="e.g. cost all forecast period=month",
        ) from None
    wanted = ctx.get_deployment(target).id if target else None
    overview = _overview(ctx, at, name)
    forecasts = [f for f in overview.forecasts if wanted is None or f.deployment_id == wanted]
    return ForecastReport(
        target=target,
        period=name,
        period_start=bounds[0],
        period_end=bounds[1],
        now=at,
        forecasts=forecasts,
    )


def raise_alerts(ctx: WorkflowContext, now: datetime | None = None) -> AlertsReport:
    """Evaluate the alert rules once, raise what is due (each alert once across replicas),
    publish an `AlertRaised` per new alert, and list the alerts raised this month."""
    from modeldeck.spend.overview import evaluate_and_raise
    from modeldeck.store.alerts import list_alerts

    at = ensure_aware(now) if now is not None else utcnow()
    budgets = [b for b, _ in effective_budgets(ctx)]
    with ctx.store.session() as session:
        _, new = evaluate_and_raise(
            session,
            ctx.catalog,
            now=at,
            raised_by=ctx.worker_id,
            budgets=budgets,
            settings=ctx.settings.alerts,
            rules=ctx.rules,
        )
    for alert in new:
        ctx.emit(alert_event(ctx, alert))
    since = period_bounds("month", at)[0]
    with ctx.store.session() as session:
        listed = list_alerts(session, since=since)
    return AlertsReport(now=at, since=since, new=new, alerts=listed)


def alert_event(ctx: WorkflowContext, alert: RaisedAlert) -> events.AlertRaised:
    """The typed event of a raised alert, with the channels its routes name."""
    return events.AlertRaised(
        at=alert.raised_at,
        alert_id=alert.id,
        kind=alert.kind,
        scope=alert.scope,
        period=alert.period,
        severity=alert.severity,
        title=alert.title,
        message=alert.text,
        channels=ctx.settings.alerts.channels_for(alert.kind, alert.scope),
        data=dict(alert.data),
    )
