"""One call for the surfaces: forecasts, budgets and due alerts from the store, at an instant.

`spend_overview` is what `cost … forecast`, the budget view and `modeldeck alerts` need;
`evaluate_and_raise` also claims the due alerts (each raised once across replicas).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from modeldeck.alerts.config import AlertSettings
from modeldeck.alerts.inputs import deployment_states, order_states, overflow_windows
from modeldeck.alerts.models import AlertCandidate, RaisedAlert
from modeldeck.alerts.rules import evaluate
from modeldeck.billing.accrual import Capacity
from modeldeck.billing.forecast import (
    BudgetForecast,
    Forecast,
    forecast,
    forecast_budgets,
    projection_window,
)
from modeldeck.billing.overflow import OverflowTotal
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.budgets.models import Budget, BudgetTarget, period_bounds
from modeldeck.catalog import Catalog
from modeldeck.spend.histories import StoredHistory, load_histories
from modeldeck.spend.period_overflow import period_overflow
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
    # Spend to date is the cost query's accrual, its overflow summed in SQL per period, and so
    # is the overflow of each projection window (the last `window` before the period's split):
    # one grouped query per distinct window, never a call read one by one.
    periods = list(dict.fromkeys([bounds, *(b.bounds(now) for b in budgets)]))
    stored = load_histories(session, with_calls=False)
    rows = [s.row for s in stored]
    summed = {
        (lo, hi): period_overflow(session, rows, lo, min(max(now, lo), hi), catalog)
        for lo, hi in periods
    }
    recent = {p: recent_overflow(session, stored, p, now, window, catalog) for p in periods}
    planned = planned_changes(session, now, max(hi for _, hi in periods))
    pairs = [
        (
            BudgetTarget.model_construct(  # from store rows, already valid
                id=s.row.id,
                deployed_model=s.row.deployed_model,
                name=s.row.name,
                tags={**(s.row.tags or {}), **(tags or {}).get(s.row.id, {})},
            ),
            s.history,
        )
        for s in stored
    ]

    def forecasts_over(period: tuple[datetime, datetime]) -> list[tuple[BudgetTarget, Forecast]]:
        return [
            (
                target,
                forecast(
                    h,
                    period,
                    now,
                    catalog,
                    rules,
                    window=window,
                    auto_renew=auto_renew,
                    summed=summed[period],
                    recent=recent[period],
                    planned=planned.get(h.deployment_id, ()),
                ),
            )
            for target, h in pairs
        ]

    known = {period: forecasts_over(period) for period in periods}
    made = known[bounds]
    per_budget = forecast_budgets(
        budgets,
        pairs,
        now,
        catalog,
        rules,
        window=window,
        auto_renew=auto_renew,
        known=known,
        planned=planned,
    )
    latest = timedelta(minutes=settings.overflow_window_minutes)
    alerts = evaluate(
        now,
        settings,
        budgets=per_budget,
        overflow=overflow_windows(session, now - latest, now),
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


def recent_overflow(
    session: Session,
    stored: Sequence[StoredHistory],
    period: tuple[datetime, datetime],
    now: datetime,
    window: timedelta,
    catalog: Catalog,
) -> dict[str, OverflowTotal]:
    """Each deployment's billable overflow over its projection window in `period`, summed in
    SQL: one grouped query for the window most share, one more per distinct window of those
    created inside it (their window starts at creation). Each query attributes the calls of
    every deployment (a reused Model Code's calls go to the row live at each call) and keeps
    the totals of the deployments whose window it is."""
    by_window: dict[tuple[datetime, datetime], set[str]] = defaultdict(set)
    for s in stored:
        by_window[projection_window(s.history, period, now, window)].add(s.row.id)
    rows = [s.row for s in stored]
    out: dict[str, OverflowTotal] = {}
    for (lo, hi), ids in by_window.items():
        if lo < hi:
            totals = period_overflow(session, rows, lo, hi, catalog)
            out.update((i, t) for i, t in totals.items() if i in ids)
    return out


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
