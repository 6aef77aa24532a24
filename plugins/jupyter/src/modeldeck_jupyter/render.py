"""HTML for the panel: estimates, errors, request outcomes and the deployments table.

Pure functions over the shared domain models, so they are tested without a kernel. Every value
is escaped; money is shown rounded half-up to cents (exact sub-cent digits only for rates).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from modeldeck.domain import DeploymentRecord, Estimate, EstimateLine, RequestRecord
from modeldeck.errors import ModeldeckError, ModeldeckRuntimeError, UserError
from modeldeck.money import format_amount
from modeldeck.timeutil import to_beijing

ERROR_COLOR = "#b00020"
STATUS_COLORS = {
    "RUNNING": "#1b7f3b",
    "PENDING": "#a86400",
    "DEPLOYING": "#a86400",
    "UPDATING": "#a86400",
    "DELETING": "#6b6b6b",
    "OFFLINING": "#6b6b6b",
    "DELETED": "#6b6b6b",
    "STOPPED": "#6b6b6b",
    "ARREARS_RECOVERING": "#a86400",
    "FAILED": ERROR_COLOR,
    "UPDATING_FAILED": ERROR_COLOR,
    "ARREARS_DOWN": ERROR_COLOR,
}
REQUEST_WORDS = {
    "pending": "is waiting for approval",
    "approved": "was approved",
    "executing": "is being deployed",
    "executed": "was approved and executed",
    "rejected": "was rejected",
    "failed": "failed",
    "expired": "expired",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Decimal | int | None) -> str:
    """A quantity with thousands separators and no trailing zeros (10,000 or 1.5)."""
    if value is None:
        return ""
    d = Decimal(value)
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _when(value: datetime | None) -> str:
    return "" if value is None else to_beijing(value).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def _line_row(line: EstimateLine, currency: str) -> str:
    """description | quantity × rate × periods (the formula, small) | amount."""
    qty = " ".join(p for p in (_number(line.quantity), esc(line.unit or "")) if p)
    rate = ""
    if line.rate is not None:
        unit = line.rate_unit or ""
        if unit.startswith(f"{currency} "):  # "USD per 10k TPM·hour" already names the currency
            rate = f"{_number(line.rate)} {esc(unit)}"
        else:
            rate = esc(format_amount(Decimal(line.rate), currency, exact=True))
            rate += f" {esc(unit)}" if unit else ""
    periods = " ".join(p for p in (_number(line.periods), esc(line.period_unit or "")) if p)
    formula = " × ".join(p for p in (qty, rate, periods) if p)
    amount = esc(format_amount(Decimal(line.amount), currency))
    return (
        f"<tr><td style='padding:2px 8px 2px 0;white-space:nowrap'>{esc(line.description)}</td>"
        f"<td style='padding:2px 8px;color:#555;font-size:0.9em'>{formula}</td>"
        f"<td style='padding:2px 0 2px 8px;white-space:nowrap;text-align:right'>{amount}</td></tr>"
    )


def estimate_html(estimate: Estimate) -> str:
    """The estimate's total, its priced lines, per-period rates, timeline and notes."""
    cur = estimate.currency
    total = esc(format_amount(Decimal(estimate.total), cur))
    parts = [
        "<div class='modeldeck-estimate-ok'>",
        f"<div style='font-size:1.5em'><b class='modeldeck-total'>{total}</b> "
        f"<span style='color:#555'>for {esc(estimate.period)}</span></div>",
        f"<div style='color:#555'>{esc(estimate.model)} · {esc(estimate.plan)} · "
        f"{esc(estimate.mode)} · {esc(estimate.billing)}</div>",
    ]
    if estimate.lines:
        parts.append("<table style='border-collapse:collapse;margin-top:4px'>")
        parts.extend(_line_row(line, cur) for line in estimate.lines)
        parts.append("</table>")
    rates = [
        f"{esc(format_amount(Decimal(v), cur))} {label}"
        for v, label in (
            (estimate.per_hour, "per hour"),
            (estimate.per_day, "per day"),
            (estimate.per_30_days, "per 30 days"),
        )
        if v is not None
    ]
    if rates:
        parts.append(f"<div style='color:#555'>{' · '.join(rates)}</div>")
    if estimate.timeline is not None:
        t = estimate.timeline
        parts.append(
            "<div style='color:#555'>Valid until "
            f"{esc(_when(t.expires_at))}; stops {esc(_when(t.stops_at))}; "
            f"released {esc(_when(t.released_at))}"
            + (" (ordered after 22:00: one extra day)" if t.extra_day else "")
            + "</div>"
        )
    if estimate.notes:
        parts.append("<ul style='margin:4px 0;color:#555'>")
        parts.extend(f"<li>{esc(note)}</li>" for note in estimate.notes)
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def error_text(exc: BaseException) -> str:
    """One line a person can act on; unexpected errors keep their type but never a traceback."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ModeldeckRuntimeError):
        return f"modeldeck could not do this right now: {exc} Retrying later may help."
    if isinstance(exc, ModeldeckError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def error_html(exc: BaseException | str) -> str:
    """A red message for an error; the hint, if any, on the same line."""
    text = exc if isinstance(exc, str) else error_text(exc)
    return f"<div class='modeldeck-error' style='color:{ERROR_COLOR}'><b>⚠</b> {esc(text)}</div>"


def request_html(request: RequestRecord) -> str:
    """What a deploy request became: its id, status in words, policy and any error."""
    words = REQUEST_WORDS.get(str(request.status), f"is {request.status}")
    policy = request.policy
    parts = [
        "<div class='modeldeck-request'>",
        f"Request <b>{esc(request.id)}</b> ({esc(request.summary)}) {esc(words)}.",
    ]
    if str(request.status) == "pending":
        need = policy.approvers_required
        parts.append(
            f" It needs {need} approval{'s' if need != 1 else ''} from the "
            f"{esc(policy.approver_role)} role ({esc(policy.rule)})."
        )
    elif policy.auto_approve:
        parts.append(f" Auto-approved: {esc(policy.rule)}.")
    if request.estimate is not None:
        cost = format_amount(Decimal(request.estimate.total), request.estimate.currency)
        parts.append(f" Estimate: {esc(cost)} for {esc(request.estimate.period)}.")
    if request.error:
        parts.append(f"<div style='color:{ERROR_COLOR}'>{esc(request.error)}</div>")
    parts.append("</div>")
    return "".join(parts)


def _capacity(d: DeploymentRecord) -> str:
    if d.plan == "mu":
        return f"{d.units if d.units is not None else '?'} unit(s)"
    text = f"{_number(d.input_tpm or 0)} in / {_number(d.output_tpm or 0)} out TPM"
    if d.thinking_output_tpm:
        text += f" / {_number(d.thinking_output_tpm)} thinking"
    return text


def status_badge(status: str) -> str:
    """The status in its colour; a status modeldeck does not know is shown as it is."""
    color = STATUS_COLORS.get(status.upper(), "#333")
    style = f"color:{color};font-weight:bold"
    return f"<span class='modeldeck-status' style='{style}'>{esc(status)}</span>"


def deployments_html(deployments: Iterable[DeploymentRecord]) -> str:
    """The deployments as a table, newest first."""
    rows = sorted(deployments, key=lambda d: d.created_at, reverse=True)
    if not rows:
        return "<div class='modeldeck-deployments-empty'>No deployments yet.</div>"
    head = ("Name", "Model code", "Model", "Plan", "Billing", "Capacity", "Status", "Updated")
    out = [
        "<table class='modeldeck-deployments-table' style='border-collapse:collapse'>",
        "<tr>"
        + "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>" for h in head)
        + "</tr>",
    ]
    for d in rows:
        cells = [
            esc(d.name or d.id),
            esc(d.deployed_model or "—"),
            esc(d.model) + (" <i>(imported)</i>" if d.imported else ""),
            esc(d.plan),
            esc(d.billing),
            esc(_capacity(d)),
            status_badge(d.status),
            esc(_when(d.updated_at)),
        ]
        out.append(
            "<tr>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in cells) + "</tr>"
        )
    out.append("</table>")
    return "".join(out)
