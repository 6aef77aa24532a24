"""Rich tables for the CLI, drawn from the typed results (never from re-parsed text).

Used by the core's `cli` renderers (`modeldeck.default_plugins.renderers`); each returns a list
of things to print (rich renderables or plain strings).
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from modeldeck import render
from modeldeck.money import format_amount

Printable = Table | Text | str


def rows_table(rows: render.Rows, title: str | None = None) -> Table:
    """A rich table of the same headers and cells the text table uses."""
    headers, cells = rows
    table = Table(title=title)
    for col in headers:
        table.add_column(col, overflow="fold")  # wrap long names, never cut them off
    for row in cells:
        table.add_row(*("" if c is None else str(c) for c in row))
    return table


def listing(rows: render.Rows, empty_text: str) -> list[Printable]:
    return [rows_table(rows)] if rows[1] else [empty_text]


def estimate_printables(result: Any, **_: Any) -> list[Printable]:
    """The priced lines as a table, then the rest of the estimate as text."""
    from modeldeck.billing.render import render_estimate_details

    est = result.estimate
    table = Table(title=f"{est.model} {est.plan} {est.billing} - {est.period}")
    table.add_column("item")
    table.add_column("rate", justify="right")
    table.add_column("amount", justify="right")
    for line in est.lines:
        rate = f"{line.rate} {line.rate_unit or ''}" if line.rate is not None else ""
        table.add_row(line.description, rate, format_amount(line.amount, est.currency))
    table.add_row(
        Text("total", style="bold"), "", Text(format_amount(est.total, est.currency), style="bold")
    )
    out: list[Printable] = [table]
    out.extend(render_estimate_details(est))
    return out


def plan_table(plan: Any) -> Table:
    """A planner answer's options, ranked: capacity, reserved, overflow, total, $/M, coverage."""
    from modeldeck.planner.render import _capacity

    cover = f", coverage {plan.coverage}" if plan.coverage is not None else ""
    table = Table(title=f"plan {plan.model} ({plan.mode}{cover})")
    for col in ("#", "option", "capacity", "reserved", "overflow", "total", "per M tokens",
                "coverage"):  # fmt: skip
        table.add_column(
            col, justify="right" if col in ("reserved", "overflow", "total") else "left"
        )
    for opt in plan.options:
        mark = "*" if opt.option == plan.recommended else ""
        if not opt.available:
            table.add_row(str(opt.rank or "-"), opt.option, "not priced", "", "", "unknown", "", "")
            continue

        def money(value: Any, currency: str = opt.currency) -> str:
            return "unknown" if value is None else format_amount(value, currency)

        meets = "" if opt.meets_coverage is None else ("meets" if opt.meets_coverage else "no")
        table.add_row(
            f"{opt.rank or '-'}{mark}",
            opt.option,
            _capacity(opt),
            money(opt.reserved),
            money(opt.overflow),
            money(opt.total),
            money(opt.effective_per_million),
            meets,
        )
    return table
