"""The Charts tab: usage per minute vs purchased TPM, spend with forecast vs budget, the plan.

Every chart is a model of the ONE core chart module (`modeldeck.charts`) drawn as a PNG into an
Image widget: the bytes travel in the widget state, so nothing is fetched from a CDN and Voila
shows them too. Pickers (deployment, usage window, budget, chart theme) redraw at once.
The data comes from the deck (`usage_chart`, `budget_chart`, `forecast`, `plan`), in-process
or from the team server alike.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.charts.data import Chart, CostCurveChart, SpendChart, SpendPoint, UsageChart
from modeldeck.domain import DeploymentRecord
from modeldeck.errors import UserError, ValidationFailed
from modeldeck.money import format_amount
from modeldeck.timeutil import utcnow
from modeldeck_jupyter.render import MUTED, error_html, esc

log = logging.getLogger(__name__)
WINDOWS = (("Last hour", 1), ("Last 6 hours", 6), ("Last 24 hours", 24))
NO_BUDGET = ""


def forecast_chart(
    title: str, start: Any, now: Any, end: Any, to_date: Decimal, total: Decimal, budget: Any
) -> SpendChart:
    """Spend from zero at the period's start to `to_date` now, forecast to `total` at its end."""
    split = min(max(now, start), end)
    return SpendChart(
        title=title,
        actual=[SpendPoint(at=start, amount=Decimal(0)), SpendPoint(at=split, amount=to_date)],
        forecast=[SpendPoint(at=split, amount=to_date), SpendPoint(at=end, amount=total)],
        budget=budget,
    )


def cost_curve(result: Any) -> CostCurveChart:
    """The planner's curve (hourly PTU cost per input capacity), the cheapest point marked."""
    points = [(p.input_tpm, p.total) for p in result.curve]
    if not points:
        raise ValidationFailed(
            f"The planner drew no cost curve for {result.model} (no hourly PTU option)."
        )
    cheapest = min(points, key=lambda p: p[1])
    return CostCurveChart(
        title=f"{result.model}: cost vs input capacity (hourly PTU)",
        currency=result.currency,
        per=f"{result.trace.minutes} min trace",
        points=points,
        recommended=cheapest,
    )


class ChartsView:
    """Pickers and three PNG charts drawn with `modeldeck.charts.render`."""

    def __init__(self, deck: Callable[[], DeckAPI], lock: threading.RLock) -> None:
        self._deck = deck
        self._lock = lock
        self._quiet = False
        self.charts: dict[str, Chart] = {}
        self.errors: dict[str, str] = {}
        self.recommendation = ""
        style = {"description_width": "90px"}
        self.deployment = W.Dropdown(
            description="Deployment",
            options=[],
            style=style,
            layout=W.Layout(width="100%", max_width="460px"),
        )
        self.window = W.Dropdown(description="Usage", options=list(WINDOWS), value=1, style=style)
        self.budget = W.Dropdown(
            description="Budget", options=[("(this deployment)", NO_BUDGET)], style=style
        )
        self.theme = W.ToggleButtons(
            description="Theme",
            options=[("Light", "light"), ("Dark", "dark")],
            value="light",
            style={"description_width": "90px", "button_width": "auto"},
        )
        self.draw_button = W.Button(description="Draw", icon="refresh")
        self.images = {
            name: W.Image(format="png", layout=W.Layout(max_width="100%", display="none"))
            for name in ("usage", "spend", "plan")
        }
        self.notes = {name: W.HTML() for name in self.images}
        for name, image in self.images.items():
            image.add_class(f"modeldeck-chart-{name}")
            self.notes[name].add_class(f"modeldeck-chart-{name}-note")
        self.deployment.add_class("modeldeck-charts-deployment")
        for picker in (self.deployment, self.window, self.budget, self.theme):
            picker.observe(self._on_pick, names="value")
        self.draw_button.on_click(lambda _b: self.draw())
        wrap = W.Layout(flex_flow="row wrap")
        self.box = W.VBox(
            [
                W.HBox([self.deployment, self.window], layout=wrap),
                W.HBox(
                    [self.budget, self.theme, self.draw_button],
                    layout=W.Layout(flex_flow="row wrap"),
                ),
                self.notes["usage"],
                self.images["usage"],
                self.notes["spend"],
                self.images["spend"],
                self.notes["plan"],
                self.images["plan"],
            ]
        )
        self.box.add_class("modeldeck-charts")

    def _on_pick(self, _change: dict[str, Any]) -> None:
        if not self._quiet:
            self.draw()

    def load(self) -> None:
        """Offer the deployments (live ones first) and the budgets in force."""
        try:
            with self._lock:
                deck = self._deck()
                rows = deck.list_deployments(include_deleted=True)
                budgets = [line.forecast.budget.name for line in deck.budgets().lines]
        except Exception as exc:
            log.debug("loading the charts' pickers failed", exc_info=True)
            self.notes["usage"].value = error_html(exc)
            return
        rows.sort(key=lambda d: (str(d.status) != "RUNNING", -d.created_at.timestamp()))
        options = [(_label(d), d.id) for d in rows]
        self._quiet = True
        try:
            _keep(self.deployment, options)
            _keep(self.budget, [("(this deployment)", NO_BUDGET), *((b, b) for b in budgets)])
        finally:
            self._quiet = False

    def draw(self) -> dict[str, Chart]:
        """Build and draw each chart; one that cannot be drawn says why under its title."""
        self.charts, self.errors = {}, {}
        ref = self.deployment.value
        if not ref:
            self.notes[
                "usage"
            ].value = (
                f"<span style='{MUTED}'>No deployment yet: charts follow your first deploy.</span>"
            )
            return {}
        for name, build in (("usage", self._usage), ("spend", self._spend), ("plan", self._plan)):
            try:
                with self._lock:
                    chart = build(ref)
                self._render(name, chart)
            except Exception as exc:
                log.debug("chart %s failed", name, exc_info=not isinstance(exc, UserError))
                self.errors[name] = str(exc)
                self.images[name].layout.display = "none"
                self.notes[name].value = error_html(exc)
                continue
            self.charts[name] = chart
        return self.charts

    def _render(self, name: str, chart: Chart) -> None:
        from modeldeck.charts import render

        self.images[name].value = render(chart, "png", theme=self.theme.value)
        self.images[name].layout.display = None
        note = self.recommendation if name == "plan" else ""
        self.notes[name].value = f"<b>{esc(chart.title)}</b>" + (
            f"<div style='{MUTED}'>{esc(note)}</div>" if note else ""
        )

    def _dep(self, ref: str) -> DeploymentRecord:
        return self._deck().get_deployment(ref)

    def _usage(self, ref: str) -> UsageChart:
        deck = self._deck()
        until = utcnow()
        return deck.usage_chart(ref, until - timedelta(hours=self.window.value), until)

    def _spend(self, ref: str) -> SpendChart:
        deck = self._deck()
        name = self.budget.value
        if name:
            return deck.budget_chart(name)
        report = deck.forecast(ref, "month")
        if not report.forecasts:
            raise ValidationFailed(f"{ref} has no spend to forecast this month.")
        f = report.forecasts[0]
        return forecast_chart(
            f"Spend this month with forecast: {ref}",
            f.period_start,
            f.now,
            f.period_end,
            f.to_date,
            f.total,
            None,
        )

    def _plan(self, ref: str) -> CostCurveChart:
        from modeldeck.planner.spec import PlanSpec

        deck = self._deck()
        dep = self._dep(ref)
        result = deck.plan(PlanSpec(model=dep.model, deployment=dep.id))
        chart = cost_curve(result)
        best = result.option(result.recommended) if result.recommended else None
        self.recommendation = (
            f"Recommended: {best.option} ({best.billing}), "
            f"{format_amount(best.total, best.currency) if best.total is not None else 'unknown'}"
            f" for the trace; the marked point is the cheapest hourly PTU input capacity."
            if best is not None
            else "No option is recommended for this trace."
        )
        return chart


def _keep(widget: W.Dropdown, options: list[tuple[str, str]]) -> None:
    previous = widget.value
    if list(widget.options) != options:
        widget.options = options
    values = [v for _, v in options]
    if previous in values:
        widget.value = previous
    elif values:
        widget.value = values[0]


def _label(dep: DeploymentRecord) -> str:
    name = dep.deployed_model or dep.name or dep.id
    return f"{name} · {dep.model} {dep.plan} · {dep.status}"
