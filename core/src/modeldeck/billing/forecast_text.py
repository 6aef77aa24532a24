"""Forecasts in words (for `cost … forecast` and the budget view) and as a spend chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from modeldeck.billing.forecast import BudgetForecast, Forecast
from modeldeck.charts.data import SpendChart, SpendPoint
from modeldeck.money import format_amount, round_cents
from modeldeck.render import table
from modeldeck.timeutil import iso, to_beijing


def _period(start: datetime, end: datetime) -> str:
    return f"{iso(to_beijing(start))} .. {iso(to_beijing(end))} (Beijing time)"


def render_forecast_text(forecasts: Sequence[Forecast]) -> str:
    """A table of deployments: to date, reserved and overflow still to come, forecast total;
    then each deployment's assumptions."""
    if not forecasts:
        return "No deployments to forecast."
    first = forecasts[0]
    rows = [
        (
            f.deployment_id,
            f.state,
            format_amount(f.to_date, f.currency),
            format_amount(f.reserved_to_come, f.currency),
            format_amount(f.overflow_to_come, f.currency),
            format_amount(f.total, f.currency),
        )
        for f in forecasts
    ]
    lines = [
        f"Forecast for {_period(first.period_start, first.period_end)}, as of "
        f"{iso(to_beijing(first.now))}:",
        table(
            ("deployment", "state", "to date", "reserved to come", "overflow to come", "total"),
            rows,
        ),
        "Assumptions:",
    ]
    for f in forecasts:
        lines.extend(f"- {f.deployment_id}: {note}" for note in f.assumptions)
    return "\n".join(lines)


def render_budget_text(items: Sequence[BudgetForecast]) -> str:
    """The budget view: per budget, spend to date and forecast against the amount."""
    if not items:
        return "No budgets configured (add [[budgets]] to modeldeck.toml)."
    rows = []
    for b in items:
        rows.append(
            (
                b.budget.name,
                str(b.budget.scope),
                format_amount(b.budget.amount_usd),
                f"{format_amount(b.to_date)} ({round_cents(b.spent_percent)}%)",
                f"{format_amount(b.total)} ({round_cents(b.forecast_percent)}%)",
                "OVERRUN" if b.overrun else "ok",
                "hard" if b.budget.hard else "soft",
            )
        )
    out = [table(("budget", "scope", "amount", "to date", "forecast", "outlook", "kind"), rows)]
    for b in items:
        out.append(
            f"{b.budget.name}: {_period(b.period_start, b.period_end)}, "
            f"{len(b.deployments)} deployment(s)"
        )
        out.extend(f"- {note}" for note in b.assumptions)
    return "\n".join(out)


def spend_chart(item: BudgetForecast, actual: Sequence[tuple[datetime, Decimal]]) -> SpendChart:
    """The spend chart of a budget: actual points (see `cumulative_spend`), then a straight
    forecast from now to the period's end (reserved hourly and projected overflow are linear),
    and the budget line."""
    split = min(max(item.now, item.period_start), item.period_end)
    return SpendChart(
        title=f"Budget {item.budget.name} ({item.budget.scope})",
        actual=[SpendPoint(at=at, amount=amount) for at, amount in actual],
        forecast=[
            SpendPoint(at=split, amount=item.to_date),
            SpendPoint(at=item.period_end, amount=item.total),
        ],
        budget=item.budget.amount_usd,
    )
