"""`modeldeck chart spend|usage|plan … --out file.png` and `modeldeck alerts [--watch] [--json]`.

Charts are drawn from the local store (a configured server URL is refused: the chart data
queries read the store) through `modeldeck.charts.render`, which is the only thing that imports
matplotlib, and only when a chart is drawn.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from modeldeck.errors import UserError


def _local_deck() -> Any:
    from modeldeck.deck import Deck
    from modeldeck.settings import load_settings

    settings = load_settings()
    if settings.server.url:
        raise UserError(
            "Charts are drawn from the local store; this configuration points at a server.",
            hint="Run `modeldeck chart` where the store is (beside `modeldeck up`).",
        )
    return Deck(settings)


def _write(chart: Any, out: Path, theme: str, dpi: int) -> None:
    from modeldeck.charts import render

    fmt = "svg" if out.suffix.lower() == ".svg" else "png"
    data = render(chart, fmt, theme=theme, dpi=dpi)  # type: ignore[arg-type]
    out.write_bytes(data)
    click.echo(f"Wrote {out} ({len(data):,} bytes, {fmt.upper()}).")


_OUT = click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="File to write: .png (default) or .svg.",
)  # fmt: skip
_THEME = click.option("--theme", type=click.Choice(["light", "dark"]), default="light")
_DPI = click.option("--dpi", type=click.IntRange(30, 300), default=100, show_default=True)


@click.group(name="chart")
def chart() -> None:
    """Draw spend, usage or the planner's cost curve as an image (offline, no browser)."""


@chart.command(name="spend")
@click.argument("budget", required=False)
@_OUT
@_THEME
@_DPI
def chart_spend(budget: str | None, out: Path, theme: str, dpi: int) -> None:
    """A budget's spend this period: actual, forecast to the period's end, the budget line."""
    from modeldeck.spend.charts import budget_chart_data

    deck = _local_deck()
    try:
        lines = deck.budgets().lines
        if not lines:
            raise UserError(
                "There is no budget to chart.",
                hint="Add [[budgets]] to modeldeck.toml, or: budget set name=<n> amount=<USD>",
            )
        names = [line.forecast.budget.name for line in lines]
        if budget is not None and budget not in names:
            raise UserError(f"No budget named {budget!r}.", hint=f"Budgets: {', '.join(names)}.")
        item = next(ln.forecast for ln in lines if budget in (None, ln.forecast.budget.name))
        with deck.store.session() as session:
            data = budget_chart_data(session, deck.catalog, item, deck.rules)
    finally:
        deck.close()
    _write(data, out, theme, dpi)


@chart.command(name="usage")
@click.argument("deployment")
@click.option("--hours", type=click.IntRange(1, 24 * 31), default=24, show_default=True)
@_OUT
@_THEME
@_DPI
def chart_usage(deployment: str, hours: int, out: Path, theme: str, dpi: int) -> None:
    """Input tokens per minute of a PTU deployment against its purchased input TPM."""
    from modeldeck.spend.charts import usage_chart_data
    from modeldeck.timeutil import utcnow

    deck = _local_deck()
    try:
        dep = deck.get_deployment(deployment)
        if not dep.input_tpm or not dep.deployed_model:
            raise UserError(
                f"{dep.id} has no purchased input TPM to chart usage against.",
                hint="Usage charts are for PTU deployments (in=<TPM>).",
            )
        until = utcnow()
        with deck.store.session() as session:
            data = usage_chart_data(
                session, dep.deployed_model, dep.input_tpm, until - timedelta(hours=hours), until
            )
    finally:
        deck.close()
    _write(data, out, theme, dpi)


@chart.command(name="plan")
@click.argument("model")
@click.argument("trace", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_OUT
@_THEME
@_DPI
def chart_plan(model: str, trace: Path, out: Path, theme: str, dpi: int) -> None:
    """The planner's cost curve for a model and a CSV usage trace (hourly PTU, the cheapest
    input capacity marked)."""
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import load_catalog
    from modeldeck.planner import plan
    from modeldeck.planner.csv_source import read_csv_trace
    from modeldeck.settings import load_settings
    from modeldeck.spend.charts import plan_chart_data

    settings = load_settings()
    catalog = load_catalog(settings)
    result = plan(
        read_csv_trace(trace), model, catalog=catalog,
        rules=BillingRules.model_validate(settings.billing),
    )  # fmt: skip
    if not result.curve:
        raise UserError(f"The planner drew no cost curve for {model} (no hourly PTU option).")
    points = [(p.input_tpm, p.total) for p in result.curve]
    cheapest = min(points, key=lambda p: p[1])
    minutes = result.trace.minutes
    data = plan_chart_data(
        points, cheapest, per=f"{minutes} min trace", currency=result.currency,
        title=f"{result.model}: cost vs input capacity (hourly PTU)",
    )  # fmt: skip
    _write(data, out, theme, dpi)


@click.command(name="alerts")
@click.option("--watch", is_flag=True, help="Keep evaluating every --interval seconds.")
@click.option("--interval", type=click.FloatRange(1, 3600), default=60.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def alerts(watch: bool, interval: float, as_json: bool) -> None:
    """Evaluate the alert rules once, raise what is due (each alert once), list this month's
    alerts; with --watch, keep evaluating and print each new alert as it is raised."""
    from modeldeck.deck_open import open_deck
    from modeldeck.grammar import parse
    from modeldeck.identity import local_user
    from modeldeck.rendering import render
    from modeldeck.spend.text import alerts_text

    deck = open_deck()
    try:
        actor = deck.resolve_actor("cli", local_user())
        result = deck.run(parse("alerts"), actor)
        if as_json:
            click.echo(json.dumps(render(result, "json"), indent=2, default=str))
        else:
            click.echo(alerts_text(result.report))
        while watch:
            time.sleep(interval)
            result = deck.run(parse("alerts"), actor)
            for alert in result.report.new:
                if as_json:
                    click.echo(json.dumps(alert.model_dump(mode="json"), default=str))
                else:
                    click.echo(f"[{alert.severity}] {alert.title}: {alert.text}")
    finally:
        deck.close()
