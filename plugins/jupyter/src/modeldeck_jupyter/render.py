"""HTML for the panel: estimates, errors, request outcomes and the deployments table.

Pure functions over the shared domain models, so they are tested without a kernel. Estimates,
errors and requests are Jinja2 templates (`modeldeck_jupyter.html`: autoescaped, `$` kept from
MathJax); money is shown rounded half-up to cents (exact sub-cent digits only for rates).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from modeldeck.domain import DeploymentRecord, Estimate, EstimateLine, RequestRecord
from modeldeck.errors import ModeldeckError, ModeldeckRuntimeError, UserError
from modeldeck.money import format_amount
from modeldeck.timeutil import to_beijing
from modeldeck_jupyter.html import no_math, render_template

MUTED = "color:var(--jp-ui-font-color2,#555)"  # secondary text, from the theme
ERROR_COLOR = "var(--jp-error-color1,#b00020)"
STATUS_COLORS = {
    "RUNNING": "var(--jp-success-color1,#1b7f3b)",
    "PENDING": "var(--jp-warn-color1,#a86400)",
    "DEPLOYING": "var(--jp-warn-color1,#a86400)",
    "UPDATING": "var(--jp-warn-color1,#a86400)",
    "DELETING": "var(--jp-ui-font-color2,#6b6b6b)",
    "OFFLINING": "var(--jp-ui-font-color2,#6b6b6b)",
    "DELETED": "var(--jp-ui-font-color2,#6b6b6b)",
    "STOPPED": "var(--jp-ui-font-color2,#6b6b6b)",
    "ARREARS_RECOVERING": "var(--jp-warn-color1,#a86400)",
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
    "stale": "is stale: what it would change is no longer there, so it can no longer be approved",
    "withdrawn": "was withdrawn by its requester",
}


def esc(value: object) -> str:
    """HTML-escaped, every `$` kept from MathJax (for the few tables still built in Python)."""
    return str(no_math(value))


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


def _formula(line: EstimateLine, currency: str) -> str:
    """quantity × rate × periods, as plain text (the template escapes it)."""
    qty = " ".join(p for p in (_number(line.quantity), line.unit or "") if p)
    rate = ""
    if line.rate is not None:
        unit = line.rate_unit or ""
        if unit.startswith(f"{currency} "):  # "USD per 10k TPM·hour" already names the currency
            rate = f"{_number(line.rate)} {unit}"
        else:
            rate = format_amount(Decimal(line.rate), currency, exact=True)
            rate += f" {unit}" if unit else ""
    periods = " ".join(p for p in (_number(line.periods), line.period_unit or "") if p)
    return " × ".join(p for p in (qty, rate, periods) if p)


def estimate_html(estimate: Estimate) -> str:
    """The estimate's total, its priced lines, per-period rates, timeline and notes."""
    cur = estimate.currency
    lines = [
        {
            "description": line.description,
            "formula": _formula(line, cur),
            "amount": format_amount(Decimal(line.amount), cur),
        }
        for line in estimate.lines
    ]
    rates = [
        f"{format_amount(Decimal(v), cur)} {label}"
        for v, label in (
            (estimate.per_hour, "per hour"),
            (estimate.per_day, "per day"),
            (estimate.per_30_days, "per 30 days"),
        )
        if v is not None
    ]
    t = estimate.timeline
    timeline = (
        None
        if t is None
        else {
            "expires": _when(t.expires_at),
            "stops": _when(t.stops_at),
            "released": _when(t.released_at),
            "extra_day": t.extra_day,
        }
    )
    return render_template(
        "estimate.html.j2",
        est=estimate,
        total=format_amount(Decimal(estimate.total), cur),
        lines=lines,
        rates=rates,
        timeline=timeline,
    )


def error_text(exc: BaseException) -> str:
    """One line a person can act on; unexpected errors keep their type but never a traceback."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, ModeldeckRuntimeError):
        return f"modeldeck could not do this right now: {exc} Retrying later may help."
    if isinstance(exc, ModeldeckError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def error_html(exc: BaseException | str, text: str | None = None) -> str:
    """A red message for an error (the hint, if any, on the same line); `text` below it."""
    message = exc if isinstance(exc, str) else error_text(exc)
    return render_template("error.html.j2", message=message, color=ERROR_COLOR, text=text)


def request_html(request: RequestRecord) -> str:
    """What a deploy request became: its id, status in words, policy and any error."""
    estimate = None
    if request.estimate is not None:
        estimate = format_amount(Decimal(request.estimate.total), request.estimate.currency)
    from modeldeck_jupyter.budget_view import budget_effect_html  # (imports this module)

    return render_template(
        "request.html.j2",
        request=request,
        words=REQUEST_WORDS.get(str(request.status), f"is {request.status}"),
        pending=str(request.status) == "pending",
        estimate=estimate,
        error_color=ERROR_COLOR,
    ) + budget_effect_html(request)


def status_badge(status: str) -> str:
    """The status in its colour; a status modeldeck does not know is shown as it is."""
    color = STATUS_COLORS.get(status.upper(), "var(--jp-ui-font-color1,#333)")
    style = f"color:{color};font-weight:bold"
    return f"<span class='modeldeck-status' style='{style}'>{esc(status)}</span>"


def deployments_html(deployments: Iterable[DeploymentRecord]) -> str:
    """The deployments as a table, newest first (statuses in their colours, unknown ones kept)."""
    rows = sorted(deployments, key=lambda d: d.created_at, reverse=True)
    return render_template("deployments.html.j2", rows=rows, colors=STATUS_COLORS, when=_when)
