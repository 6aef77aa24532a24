"""One call for the surfaces: forecasts, budgets and due alerts from the store, at an instant.

`spend_overview` is what `cost … forecast`, the budget view and `modeldeck alerts` need;
`evaluate_and_raise` also claims the due alerts (each raised once across replicas).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from modeldeck.alerts.config import AlertSettings
from modeldeck.alerts.inputs import deployment_states, order_states, overflow_windows
from modeldeck.alerts.models import AlertCandidate, RaisedAlert
from modeldeck.alerts.rules import evaluate
from modeldeck.billing.accrual import Capacity
from modeldeck.billing.forecast import BudgetForecast, Forecast, forecast, forecast_budgets
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.budgets.models import Budget, BudgetTarget, period_bounds
from modeldeck.catalog import Catalog
from modeldeck.spend.histories import load_histories
from modeldeck.spend.scheduled import planned_changes
from modeldeck.store.alerts import raise_due
from modeldeck.timeutil import ensure_aware

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class SpendOverview(BaseModel):
    """Forecasts of every deployment over `period`, every budget's forecast, the due alerts."""

    now: datetime
    period_start: datetime
    period_end: datetime
    forecasts: list[Forecast] = Field(default_factory=list)
    budgets: list[BudgetForecast] = Field(default_factory=list)
    alerts: list[AlertCandidate] = Field(default_factory=list)


def spend_overview(
    session: Session,
    catalog: Catalog,
    *,
    now: datetime,
    budgets: Sequence[Budget] = (),
    settings: AlertSettings | None = None,
    rules: BillingRules = DEFAULT_RULES,
    period: str = "month",
    tags: dict[str, dict[str, str]] | None = None,
    observed: dict[str, Capacity] | None = None,
    auto_renew: bool = False,
) -> SpendOverview:
    """Read the store once (grouped queries), forecast, aggregate budgets, evaluate the rules.

    Deployments' stored tags are matched by `tag:` scopes; `tags` (by deployment id) adds to
    or overrides them (tests, what-ifs); `observed` is the capacity Model Studio reports (for
    capacity-mismatch alerts), by deployment id.
    """
    settings = settings or AlertSettings()
    now = ensure_aware(now)
    bounds = period_bounds(period, now)
    window = timedelta(hours=settings.overflow_projection_hours)
    # A forecast's windows start at its period's start or the projection window before its
    # split (now, clamped to the period): older calls cannot count, so they are not read.
    periods = [bounds, *(b.bounds(now) for b in budgets)]
    earliest = min(min(lo, min(max(now, lo), hi) - window) for lo, hi in periods)
    stored = load_histories(session, columns=catalog, calls_since=earliest)
    planned = planned_changes(session, now, max(hi for _, hi in periods))
    pairs = [
        (
            BudgetTarget(
                id=s.row.id,
                deployed_model=s.row.deployed_model,
                name=s.row.name,
                tags={**(s.row.tags or {}), **(tags or {}).get(s.row.id, {})},
            ),
            s.history,
        )
        for s in stored
    ]
    calls = {s.row.id: s.calls for s in stored if s.calls is not None}
    made = [
        (
            target,
            forecast(
                h,
                bounds,
                now,
                catalog,
                rules,
                window=window,
                auto_renew=auto_renew,
                calls=calls.get(h.deployment_id),
                planned=planned.get(h.deployment_id, ()),
            ),
        )
        for target, h in pairs
    ]
    per_budget = forecast_budgets(
        budgets,
        pairs,
        now,
        catalog,
        rules,
        window=window,
        auto_renew=auto_renew,
        known={bounds: made},
        calls=calls,
        planned=planned,
    )
    recent = timedelta(minutes=settings.overflow_window_minutes)
    alerts = evaluate(
        now,
        settings,
        budgets=per_budget,
        overflow=overflow_windows(session, now - recent, now),
        orders=order_states(session, now, timedelta(hours=settings.late_hours)),
        states=deployment_states(session, tags, observed),
        rules=rules,
    )
    return SpendOverview(
        now=now,
        period_start=bounds[0],
        period_end=bounds[1],
        forecasts=[f for _, f in made],
        budgets=per_budget,
        alerts=alerts,
    )


def evaluate_and_raise(
    session: Session,
    catalog: Catalog,
    *,
    now: datetime,
    raised_by: str | None = None,
    budgets: Sequence[Budget] = (),
    settings: AlertSettings | None = None,
    rules: BillingRules = DEFAULT_RULES,
    period: str = "month",
    tags: dict[str, dict[str, str]] | None = None,
    observed: dict[str, Capacity] | None = None,
    auto_renew: bool = False,
) -> tuple[SpendOverview, list[RaisedAlert]]:
    """`spend_overview`, then claim its alerts: the second element is only what is new."""
    overview = spend_overview(
        session,
        catalog,
        now=now,
        budgets=budgets,
        settings=settings,
        rules=rules,
        period=period,
        tags=tags,
        observed=observed,
        auto_renew=auto_renew,
    )
    return overview, raise_due(session, overview.alerts, raised_by=raised_by, now=now)
