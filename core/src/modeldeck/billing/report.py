"""Cost query output: JSON-able rows and plain text for accruals, the same on every surface."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from modeldeck.billing.accrual import Accrual
from modeldeck.money import format_amount
from modeldeck.timeutil import to_beijing

KIND_WORDS = {
    "reserved": "reserved time",
    "upfront_order": "prepaid orders",
    "refund": "refunds",
    "overflow": "overflow calls",
}


def cost_rows(accruals: Sequence[Accrual]) -> list[dict[str, Any]]:
    """One row per deployment and line kind: amount as an exact decimal string."""
    rows: list[dict[str, Any]] = []
    for acc in accruals:
        for kind, amount in acc.by_kind().items():
            rows.append(
                {
                    "deployment": acc.deployment_id,
                    "kind": kind,
                    "amount": str(amount),
                    "currency": acc.currency,
                    "start": acc.start.isoformat(),
                    "end": acc.end.isoformat(),
                }
            )
    return rows


def totals_by_currency(accruals: Sequence[Accrual]) -> dict[str, Decimal]:
    """Grand totals, one per currency (never summed across currencies)."""
    out: dict[str, Decimal] = {}
    for acc in accruals:
        out[acc.currency] = out.get(acc.currency, Decimal(0)) + acc.total
    return out


def _when(value: datetime) -> str:
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def render_cost_text(accruals: Sequence[Accrual], start: datetime, end: datetime) -> str:
    """What was spent, by deployment and line kind, then the total (Beijing time period)."""
    out = [f"Spend from {_when(start)} to {_when(end)} (Beijing time):"]
    if not accruals:
        out.append("  no deployments in this period.")
    for acc in accruals:
        out.append(f"  {acc.deployment_id}: {format_amount(acc.total, acc.currency)}")
        for kind, amount in acc.by_kind().items():
            words = KIND_WORDS.get(kind, kind)
            out.append(f"    {words:<15} {format_amount(amount, acc.currency)}")
    totals = totals_by_currency(accruals)
    if totals:
        out.append("Total: " + ", ".join(format_amount(v, c) for c, v in sorted(totals.items())))
    return "\n".join(out)
