"""Chart data from the store for `modeldeck chart spend|usage|plan` and the surfaces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from modeldeck.billing.forecast import BudgetForecast, cumulative_spend
from modeldeck.billing.forecast_text import spend_chart
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.catalog import Catalog
from modeldeck.charts.data import CostCurveChart, SpendChart, UsageChart
from modeldeck.spend.histories import load_histories
from modeldeck.store.usage_queries import minute_usage
from modeldeck.timeutil import ensure_aware

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MINUTE = timedelta(minutes=1)


def usage_chart_data(
    session: Session,
    deployed_model: str,
    purchased_tpm: int,
    since: datetime,
    until: datetime,
) -> UsageChart:
    """Input tokens per minute of one deployment over [since, until); minutes without calls
    are zero (the roll-up only has rows for minutes with calls)."""
    start = ensure_aware(since).replace(second=0, microsecond=0)
    end = ensure_aware(until)
    found = {
        ensure_aware(m.minute): m.input_tokens
        for m in minute_usage(session, deployed_model, start, end)
    }
    minutes: list[datetime] = []
    at = start
    while at < end:
        minutes.append(at)
        at += MINUTE
    return UsageChart(
        title=f"Usage per minute: {deployed_model}",
        minutes=minutes,
        input_tokens=[found.get(m, 0) for m in minutes],
        purchased_tpm=purchased_tpm,
    )


def budget_chart_data(
    session: Session,
    catalog: Catalog,
    item: BudgetForecast,
    rules: BillingRules = DEFAULT_RULES,
    step: timedelta = timedelta(days=1),
) -> SpendChart:
    """A budget's spend chart: cumulative actual spend of its deployments per `step` up to now,
    the forecast to the period's end, and the budget line."""
    histories = [s.history for s in load_histories(session, set(item.deployments))]
    until = min(max(item.now, item.period_start), item.period_end)
    points = cumulative_spend(histories, item.period_start, until, catalog, rules, step)
    return spend_chart(item, points)


def plan_chart_data(
    points: Sequence[tuple[int, Decimal]],
    recommended: tuple[int, Decimal] | None = None,
    *,
    per: str = "day",
    currency: str = "USD",
    title: str = "Cost vs input capacity",
) -> CostCurveChart:
    """The planner's cost curve (a list of (input_tpm, cost) points, the recommended one)."""
    return CostCurveChart(
        title=title, currency=currency, per=per, points=list(points), recommended=recommended
    )
