"""HTML for the Approvals, Compare and Cost tabs (and `%deck`): pure functions, no widgets.

Comparisons, costs and outcomes are Jinja2 templates (autoescaped, `$` kept from MathJax); the
figures (approval counts, the comparison verdict, line kinds) come computed from the core. Money
is rounded half-up to cents only here, for display; a float is refused (`to_decimal`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.billing.verdict import hours_text
from modeldeck.domain import DecisionOutcome, Estimate, RequestRecord
from modeldeck.money import format_amount, to_decimal
from modeldeck.render import line_amount, line_detail, line_kind
from modeldeck.results import ComparisonResult, CostReport, cost_scope
from modeldeck.timeutil import to_beijing
from modeldeck_jupyter.budget_view import budget_effect_html
from modeldeck_jupyter.html import render_template
from modeldeck_jupyter.render import ERROR_COLOR

METHOD_LABELS = {
    "hourly": "Hourly (pay as you go)",
    "upfront": "Upfront (prepaid by the day)",
    "monthly": "Monthly (package)",
}

PERIOD_LABELS = {
    "today": "Today",
    "7d": "Last 7 days",
    "month": "This month",
    "last-month": "Last month",
}
OUTCOME_STYLES = {
    "executed": ("✔", "var(--jp-success-color1,#1b7f3b)"),
    "approved": ("✔", "var(--jp-success-color1,#1b7f3b)"),
    "recorded": ("✎", "var(--jp-info-color1,#1d4f91)"),
    "rejected": ("✖", "var(--jp-ui-font-color2,#6b6b6b)"),
    "already_decided": ("ℹ", "var(--jp-warn-color1,#a86400)"),
    "failed": ("⚠", ERROR_COLOR),
}


def _created(request: RequestRecord) -> str:
    return to_beijing(request.created_at).strftime("%Y-%m-%d %H:%M")


def approval_html(request: RequestRecord) -> str:
    """One pending request: summary, requester, reason, estimate, policy and what it still needs
    (the counts are the request's own: each approver once, never the requester)."""
    est = request.estimate
    return render_template(
        "approval.html.j2",
        r=request,
        created=_created(request),
        total=None if est is None else format_amount(Decimal(est.total), est.currency),
        per_day=None
        if est is None or est.per_day is None
        else format_amount(Decimal(est.per_day), est.currency),
        expires=None
        if request.expires_at is None
        else to_beijing(request.expires_at).strftime("%Y-%m-%d %H:%M"),
    ) + budget_effect_html(request)


def outcome_html(outcome: DecisionOutcome, text: str | None = None) -> str:
    """The deck's answer to a decision, in the colour of what happened (`text` below it)."""
    icon, color = OUTCOME_STYLES.get(outcome.outcome, ("•", "var(--jp-ui-font-color1,#333)"))
    return render_template("outcome.html.j2", outcome=outcome, icon=icon, color=color, text=text)


def comparison_html(estimate: Estimate) -> str:
    """The comparison rows as a table, the cheaper one marked, and the core's verdict."""
    result = ComparisonResult(estimate=estimate)
    rows = estimate.comparison or []
    verdict = result.verdict
    if not rows or verdict is None:
        return render_template("comparison.html.j2", rows=[])
    shown = [
        {
            "method": str(row.get("billing")),
            "label": METHOD_LABELS.get(str(row.get("billing")), str(row.get("billing"))),
            "cheaper": bool(row.get("cheaper")),
            "per_day": format_amount(
                to_decimal(row["per_day"]), str(row.get("currency") or estimate.currency)
            ),
            "per_30_days": format_amount(
                to_decimal(row["per_30_days"]), str(row.get("currency") or estimate.currency)
            ),
        }
        for row in rows
    ]
    return render_template(
        "comparison.html.j2",
        rows=shown,
        verdict=verdict,
        est=estimate,
        hours=hours_text(verdict.hours_per_day),
    )


def _period_end(value: datetime) -> str:
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def cost_html(report: CostReport, target_label: str | None = None) -> str:
    """The cost report as a table: deployment, item, detail, amount; subtotals, total."""
    currency = report.currency
    deployments = [
        {
            "name": dep.deployed_model or dep.id,
            "total": format_amount(dep.total, currency),
            "lines": [
                {
                    "kind": line_kind(line.kind),
                    "description": line_detail(line),
                    "amount": line_amount(line, currency),
                }
                for line in dep.lines
            ],
        }
        for dep in report.deployments
    ]
    return render_template(
        "cost.html.j2",
        period=PERIOD_LABELS.get(report.period.name, report.period.name),
        scope=target_label or cost_scope(report),
        start=_period_end(report.period.start),
        end=_period_end(report.period.end),
        deployments=deployments,
        total=format_amount(report.total, currency),
    )
