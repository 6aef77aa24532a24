"""HTML for the Approvals, Compare and Cost tabs (and `%deck`): pure functions, no widgets.

Every value is escaped. Money arrives as decimal strings (or Decimals) and is rounded half-up to
cents only here, for display; a float is refused (`to_decimal`), so no binary rounding creeps in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from modeldeck.domain import DecisionOutcome, Estimate, RequestRecord
from modeldeck.money import format_amount, to_decimal
from modeldeck.timeutil import to_beijing
from modeldeck_jupyter.render import ERROR_COLOR, esc

MAX_HOURS_PER_DAY = Decimal(24)
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
KIND_LABELS = {
    "reserved": "reserved capacity",
    "upfront_order": "upfront order",
    "refund": "refund",
    "overflow": "overflow tokens",
}

OUTCOME_STYLES = {
    "executed": ("✔", "#1b7f3b"),
    "approved": ("✔", "#1b7f3b"),
    "recorded": ("✎", "#1d4f91"),
    "rejected": ("✖", "#6b6b6b"),
    "already_decided": ("ℹ", "#a86400"),
    "failed": ("⚠", ERROR_COLOR),
}


def approvals_needed(request: RequestRecord) -> tuple[int, int]:
    """(approvals so far, approvals required), counting each approver once, never the requester."""
    got = {
        d.principal
        for d in request.decisions
        if d.verdict == "approve" and d.principal != request.requester
    }
    return len(got), max(1, request.policy.approvers_required)


def _created(request: RequestRecord) -> str:
    return to_beijing(request.created_at).strftime("%Y-%m-%d %H:%M")


def approval_html(request: RequestRecord) -> str:
    """One pending request: summary, requester, reason, estimate, policy and what it still needs."""
    got, needed = approvals_needed(request)
    remaining = max(0, needed - got)
    parts = [
        "<div class='modeldeck-approval-info'>",
        f"<b>{esc(request.summary)}</b> <span style='color:#555'>· {esc(request.id)}</span><br>",
        f"requested by <b class='modeldeck-requester'>{esc(request.requester)}</b> via "
        f"{esc(request.surface)}, {esc(_created(request))} (UTC+8)",
    ]
    if request.reason:
        parts.append(f"<br><i>“{esc(request.reason)}”</i>")
    if request.estimate is not None:
        est = request.estimate
        per_day = ""
        if est.per_day is not None:
            per_day = f" · {esc(format_amount(Decimal(est.per_day), est.currency))} per day"
        parts.append(
            "<br>Estimate: <b class='modeldeck-approval-estimate'>"
            f"{esc(format_amount(Decimal(est.total), est.currency))}</b> "
            f"for {esc(est.period)}{per_day}"
        )
    else:
        parts.append("<br>Estimate: no cost change")
    approvers = sorted({d.principal for d in request.decisions if d.verdict == "approve"})
    so_far = f"; approved so far by {esc(', '.join(approvers))}" if approvers else ""
    parts.append(
        f"<br>Policy: {esc(request.policy.rule)} · <span class='modeldeck-approvals-needed'>"
        f"needs {remaining} more approval{'s' if remaining != 1 else ''} ({got} of {needed}) "
        f"from the {esc(request.policy.approver_role)} role</span>{so_far}"
    )
    if request.expires_at is not None:
        expires = to_beijing(request.expires_at).strftime("%Y-%m-%d %H:%M")
        parts.append(f"<br><span style='color:#555'>expires {esc(expires)} (UTC+8)</span>")
    parts.append("</div>")
    return "".join(parts)


def outcome_html(outcome: DecisionOutcome) -> str:
    """The deck's answer to a decision, in the colour of what happened."""
    icon, color = OUTCOME_STYLES.get(outcome.outcome, ("•", "#333"))
    return (
        f"<div class='modeldeck-outcome modeldeck-outcome-{esc(outcome.outcome)}' "
        f"style='color:{color}'><b>{icon}</b> {esc(outcome.message)}</div>"
    )


def hours_text(value: Decimal) -> str:
    """12.00 -> 12, 15.67 -> 15.67: hours without trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _row(rows: Sequence[Mapping[str, Any]], method: str) -> Mapping[str, Any]:
    return next(r for r in rows if r.get("billing") == method)


def verdict(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(headline, detail): which method wins above how many hours a day, and by how much now."""
    hourly = _row(rows, "hourly")
    prepaid = next(r for r in rows if r.get("billing") != "hourly")
    method = str(prepaid["billing"])
    currency = str(hourly.get("currency") or "USD")
    hours = to_decimal(hourly["hours_per_day"])
    even = hourly.get("break_even_hours_per_day")
    if even is None:
        headline = f"Hourly costs nothing here, so {method} never wins"
    else:
        even_hours = to_decimal(even)
        if even_hours >= MAX_HOURS_PER_DAY:
            headline = (
                f"Hourly wins at any hours a day ({method} would only win above "
                f"{hours_text(even_hours)} h/day)"
            )
        else:
            headline = f"{method.capitalize()} wins above {hours_text(even_hours)} h/day"
    hourly_30 = to_decimal(hourly["per_30_days"])
    prepaid_30 = to_decimal(prepaid["per_30_days"])
    saving = format_amount(abs(hourly_30 - prepaid_30), currency)
    at = f"At {hours_text(hours)} h/day"
    if hourly_30 < prepaid_30:
        detail = f"{at} hourly is cheaper by {saving} per 30 days."
    elif hourly_30 > prepaid_30:
        detail = f"{at} {method} is cheaper by {saving} per 30 days."
    else:
        detail = f"{at} both cost the same."
    return headline, detail


def comparison_html(estimate: Estimate) -> str:
    """The comparison rows as a table, the cheaper one marked, and the break-even headline."""
    rows = estimate.comparison or []
    if not rows:
        return "<div class='modeldeck-compare-empty'>No comparison for this spec.</div>"
    headline, detail = verdict(rows)
    hours = hours_text(to_decimal(rows[0]["hours_per_day"]))
    head = ("Billing", f"Per day at {esc(hours)} h/day", "Per 30 days", "")
    cell = "padding:2px 10px"
    out = [
        "<div class='modeldeck-compare-ok'>",
        f"<div style='font-size:1.2em'><b class='modeldeck-break-even'>{esc(headline)}</b></div>",
        f"<div style='color:#555'>{esc(estimate.model)} · {esc(estimate.plan)} · "
        f"{esc(estimate.mode)}</div>",
        "<table class='modeldeck-compare-table' style='border-collapse:collapse;margin:4px 0'>",
        "<tr>" + "".join(f"<th style='text-align:left;{cell}'>{h}</th>" for h in head) + "</tr>",
    ]
    for row in rows:
        currency = str(row.get("currency") or estimate.currency)
        method = str(row.get("billing"))
        cheaper = bool(row.get("cheaper"))
        weight = "font-weight:bold;" if cheaper else ""
        mark = "<span style='color:#1b7f3b'>✔ cheaper</span>" if cheaper else ""
        out.append(
            f"<tr class='modeldeck-compare-{esc(method)}' style='{weight}'>"
            f"<td style='{cell}'>{esc(METHOD_LABELS.get(method, method))}</td>"
            f"<td style='{cell};text-align:right'>"
            f"{esc(format_amount(to_decimal(row['per_day']), currency))}</td>"
            f"<td style='{cell};text-align:right'>"
            f"{esc(format_amount(to_decimal(row['per_30_days']), currency))}</td>"
            f"<td style='{cell}'>{mark}</td></tr>"
        )
    out.append("</table>")
    out.append(f"<div class='modeldeck-compare-verdict'>{esc(detail)}</div>")
    out.append("</div>")
    return "".join(out)


def _money(value: Any, currency: str) -> str:
    """A decimal string (or int/Decimal) rounded half-up to cents; a float is refused."""
    return format_amount(to_decimal(value), currency)


def _period_end(text: Any) -> str:
    try:
        value = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if value.tzinfo is None:
        return str(text)
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def _dep_name(dep: Mapping[str, Any]) -> str:
    return str(dep.get("deployed_model") or dep.get("id") or "?")


def cost_html(data: Mapping[str, Any], target_label: str = "all deployments") -> str:
    """The cost command's JSON as a table: deployment, item, detail, amount; subtotals, total."""
    currency = str(data.get("currency") or "USD")
    period = data.get("period") or {}
    name = str(period.get("name") or "")
    label = PERIOD_LABELS.get(name, name)
    cell = "padding:2px 10px;vertical-align:top"
    right = f"{cell};text-align:right;white-space:nowrap"
    out = [
        "<div class='modeldeck-cost-ok'>",
        f"<div>Spend <b>{esc(label)}</b>, {esc(target_label)}: "
        f"{esc(_period_end(period.get('start')))} → {esc(_period_end(period.get('end')))} "
        "<span style='color:#555'>(Beijing time, UTC+8)</span></div>",
    ]
    deployments = list(data.get("deployments") or [])
    if not deployments:
        out.append("<div class='modeldeck-cost-empty'>No deployments.</div>")
    else:
        out.append(
            "<table class='modeldeck-cost-table' style='border-collapse:collapse;margin:4px 0'>"
            "<tr>"
            + "".join(
                f"<th style='text-align:{a};{cell}'>{h}</th>"
                for h, a in (
                    ("Deployment", "left"),
                    ("Item", "left"),
                    ("Detail", "left"),
                    ("Amount", "right"),
                )
            )
            + "</tr>"
        )
        for dep in deployments:
            out.extend(_deployment_rows(dep, currency, cell, right))
        out.append(
            "<tr class='modeldeck-cost-total' style='border-top:2px solid #999'>"
            f"<td colspan='3' style='{cell}'><b>Total</b></td>"
            f"<td style='{right}'><b class='modeldeck-cost-total-amount'>"
            f"{esc(_money(data.get('total', '0'), currency))}</b></td></tr></table>"
        )
    out.append(
        "<div style='color:#555;font-size:0.9em'>Exact amounts, each rounded half-up to the "
        "cent for display; totals are rounded once from the exact sum.</div></div>"
    )
    return "".join(out)


def _deployment_rows(dep: Mapping[str, Any], currency: str, cell: str, right: str) -> list[str]:
    name = esc(_dep_name(dep))
    lines = list(dep.get("lines") or [])
    rows = []
    if not lines:
        rows.append(
            f"<tr><td style='{cell}'>{name}</td><td style='{cell}'>—</td>"
            f"<td style='{cell};color:#555'>nothing billed in this period</td>"
            f"<td style='{right}'>{esc(_money(0, currency))}</td></tr>"
        )
    for line in lines:
        kind = str(line.get("kind") or "")
        line_currency = str(line.get("currency") or currency)
        rows.append(
            f"<tr class='modeldeck-cost-line'><td style='{cell}'>{name}</td>"
            f"<td style='{cell}'>{esc(KIND_LABELS.get(kind, kind))}</td>"
            f"<td style='{cell};color:#555'>{esc(line.get('description') or '')}</td>"
            f"<td style='{right}'>{esc(_money(line.get('amount', '0'), line_currency))}</td></tr>"
        )
    if len(lines) > 1:
        rows.append(
            f"<tr><td colspan='3' style='{cell};text-align:right;color:#555'>"
            f"{name} subtotal</td>"
            f"<td style='{right};border-top:1px solid #ccc'>"
            f"{esc(_money(dep.get('total', '0'), currency))}</td></tr>"
        )
    return rows
