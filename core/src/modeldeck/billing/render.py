"""Plain multi-line text for an estimate, the same words on the CLI, in Slack and notebooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.domain import Estimate, EstimateLine
from modeldeck.money import format_amount
from modeldeck.timeutil import to_beijing

_PLAN_WORDS = {"ptu": "PTU (provisioned throughput)", "mu": "MU (model units)"}
_BILLING_WORDS = {
    "hourly": "pay-as-you-go hourly",
    "upfront": "upfront daily package",
    "monthly": "monthly package",
}


def _num(value: Decimal) -> str:
    """A quantity without trailing zeros, grouped: 2, 1.5, 1,000."""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:,f}"


def _when(value: datetime) -> str:
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S (Beijing, UTC+8)")


def _line(line: EstimateLine, currency: str) -> str:
    parts = [f"  {line.description}:"]
    if line.quantity is not None and line.rate is not None:
        rate = format_amount(line.rate, currency, exact=True)
        unit = (line.rate_unit or "").removeprefix(f"{currency} ")
        parts.append(f"{_num(line.quantity)} × {rate} {unit}")
        if line.periods is not None:
            plural = "" if line.periods == 1 else "s"
            parts.append(f"× {_num(line.periods)} {line.period_unit}{plural}")
            if line.period_unit == "minute":
                parts.append("÷ 60")
            elif line.period_unit == "day" and "month" in unit:
                parts.append("÷ 30")
    parts.append(f"= {format_amount(line.amount, currency)}")
    return " ".join(parts)


def render_estimate_text(est: Estimate) -> str:
    """Human text: header, priced lines, total, then `render_estimate_details`."""
    cur = est.currency
    out = [
        f"Estimate: {est.model} ({est.mode}) on {_PLAN_WORDS.get(est.plan, est.plan)}, "
        f"{_BILLING_WORDS.get(est.billing, est.billing)}",
    ]
    out.extend(_line(line, cur) for line in est.lines)
    out.append(f"Total for {est.period}: {format_amount(est.total, cur)}")
    out.extend(render_estimate_details(est))
    return "\n".join(out)


def render_estimate_details(est: Estimate) -> list[str]:
    """What follows the total: per-period figures, timeline, cancellation, comparison, notes.

    Kept apart so a surface that draws the lines as a table (the CLI) shows the same rest.
    """
    cur = est.currency
    out: list[str] = []
    figures = [
        f"{label} {format_amount(value, cur)}"
        for label, value in (
            ("per hour", est.per_hour),
            ("per day", est.per_day),
            ("per 30 days", est.per_30_days),
        )
        if value is not None
    ]
    if figures:
        out.append("That is " + ", ".join(figures) + ".")
    if est.timeline is not None:
        t = est.timeline
        out.append("Order timeline (Beijing time):")
        out.append(f"  ordered   {_when(t.ordered_at)}")
        extra = " (ordered at 22:00 or later: one extra day)" if t.extra_day else ""
        out.append(f"  expires   {_when(t.expires_at)}{extra}")
        out.append(f"  stops     {_when(t.stops_at)} (2 hours after expiry)")
        out.append(f"  released  {_when(t.released_at)} (14 hours after stopping)")
    if est.cancellation is not None:
        c = est.cancellation
        out.append(
            f"Cancelled early: {c.billed_days} day(s) used, re-billed at 1.2 × the daily price = "
            f"{format_amount(c.settled, cur)} settled, {format_amount(c.refund, cur)} refunded "
            f"(of {format_amount(c.paid, cur)} paid)."
        )
    if est.comparison:
        out.append("Comparison:")
        for row in est.comparison:
            mark = "  <- cheaper" if row.get("cheaper") else ""
            row_cur = str(row.get("currency", cur))
            out.append(
                f"  {row['billing']:<8} {format_amount(Decimal(row['per_day']), row_cur)} per day, "
                f"{format_amount(Decimal(row['per_30_days']), row_cur)} per 30 days{mark}"
            )
    out.extend(f"Note: {note}" for note in est.notes)
    return out
