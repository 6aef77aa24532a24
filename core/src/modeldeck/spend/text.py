"""The words (and table rows) of the spend verbs: the budget view, `budget set`, forecasts and
alerts. One source for the text renderer and the CLI's rich tables."""

from __future__ import annotations

from typing import Any

from modeldeck.alerts.models import RaisedAlert
from modeldeck.billing.forecast_text import render_forecast_text
from modeldeck.budgets.models import Budget
from modeldeck.money import format_amount, round_cents
from modeldeck.render import Rows, table
from modeldeck.timeutil import iso, to_beijing
from modeldeck.workflow.spend import AlertsReport, BudgetReport, ForecastReport


def budget_rows(report: BudgetReport) -> Rows:
    """budget | scope | period | amount | to date | forecast | thresholds | status | kind."""
    rows: list[tuple[Any, ...]] = []
    for line in report.lines:
        f = line.forecast
        b = f.budget
        marks = ", ".join(f"{t}%{' reached' if t in f.crossed else ''}" for t in b.thresholds)
        rows.append(
            (
                b.name,
                str(b.scope),
                b.period,
                format_amount(b.amount_usd),
                f"{format_amount(f.to_date)} ({round_cents(f.spent_percent)}%)",
                f"{format_amount(f.total)} ({round_cents(f.forecast_percent)}%)",
                marks,
                line.status,
                ("hard" if b.hard else "soft") + (" (set)" if line.source == "store" else ""),
            )
        )
    headers = (
        "budget", "scope", "period", "amount", "to date", "forecast", "thresholds", "status",
        "kind",
    )  # fmt: skip
    return headers, rows


def budget_notes(report: BudgetReport) -> list[str]:
    """Per budget: its period's dates, how many deployments it covers, its assumptions."""
    out: list[str] = []
    for line in report.lines:
        f = line.forecast
        out.append(
            f"{f.budget.name}: {iso(to_beijing(f.period_start))} .. {iso(to_beijing(f.period_end))}"
            f" (Beijing time), {len(f.deployments)} deployment(s)"
            + ("; hard: requests that would cross it need an admin" if f.budget.hard else "")
        )
        out.extend(f"- {note}" for note in f.assumptions)
    return out


def budget_view_text(report: BudgetReport) -> str:
    """The budget view as text."""
    if not report.lines:
        return (
            "No budgets (add [[budgets]] to modeldeck.toml, or as an admin: "
            "budget set name=<name> amount=<USD>)."
        )
    return "\n".join([table(*budget_rows(report)), *budget_notes(report)])


def budget_set_text(budget: Budget) -> str:
    """What `budget set` stored, in one sentence."""
    marks = "/".join(str(t) for t in budget.thresholds)
    kind = "hard (requests that would cross it need an admin)" if budget.hard else "soft"
    return (
        f"Budget {budget.name} set: {format_amount(budget.amount_usd)} per {budget.period} for "
        f"{budget.scope}, thresholds {marks}%, {kind}."
    )


def forecast_text(report: ForecastReport) -> str:
    """`cost … forecast` as text (the forecast table and every assumption)."""
    if not report.forecasts:
        who = f"deployment {report.target}" if report.target else "any deployment"
        return f"Nothing to forecast for {who} in {report.period}."
    return render_forecast_text(report.forecasts)


def alert_rows(alerts: list[RaisedAlert]) -> Rows:
    """raised | severity | kind | scope | alert."""
    rows = [(iso(to_beijing(a.raised_at)), a.severity, a.kind, a.scope, a.title) for a in alerts]
    return ("raised", "severity", "kind", "scope", "alert"), rows


def alerts_heading(report: AlertsReport) -> str:
    """How many alerts this run raised and since when the list runs."""
    return (
        f"{len(report.new)} new alert(s) raised; alerts since "
        f"{iso(to_beijing(report.since))} (Beijing time):"
    )


def alerts_text(report: AlertsReport) -> str:
    """`alerts` as text: the heading, then the period's alerts with their texts."""
    lines = [alerts_heading(report)]
    if not report.alerts:
        lines.append("No alerts this month.")
        return "\n".join(lines)
    lines.append(table(*alert_rows(report.alerts)))
    fresh = {a.id for a in report.new}
    lines.extend(
        f"{'NEW ' if a.id in fresh else ''}[{a.severity}] {a.title}: {a.text}"
        for a in report.alerts
    )
    return "\n".join(lines)
