"""The Cost tab: what was spent over a period, by deployment and line item.

It runs the grammar's own `CostCommand` (what `cost <deployment|all> period=<period>` parses to)
through `deck.run`, so the notebook, the CLI and Slack answer the same question with the same
numbers. The result is a typed `CostResult` (exact Decimals), rounded half-up to cents only for
display, never through a float.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.charts.data import SpendChart, SpendPoint
from modeldeck.domain import Actor, DeploymentRecord
from modeldeck.errors import UserError, ValidationFailed
from modeldeck.grammar import CostCommand, parse_value
from modeldeck.timeutil import to_beijing, utcnow
from modeldeck_jupyter.render import MUTED, error_html, error_text

if TYPE_CHECKING:
    from modeldeck.results import CostResult

log = logging.getLogger(__name__)

CUSTOM = "custom"
PERIODS: tuple[tuple[str, str], ...] = (
    ("Today", "today"),
    ("Last 7 days", "7d"),
    ("This month", "month"),
    ("Last month", "last-month"),
    ("A month (YYYY-MM)…", CUSTOM),
)
ALL = "all"
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_TARGET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def period_value(choice: str, month: str) -> str:
    """The grammar's period word for the picker (a typed month is checked to be YYYY-MM)."""
    if choice != CUSTOM:
        return choice
    text = month.strip()
    if not _MONTH.fullmatch(text):
        raise ValidationFailed(
            f"The month must be written YYYY-MM, such as 2026-03; got {text!r}.",
            hint="Or pick Today, Last 7 days, This month or Last month.",
        )
    return text


def cost_command(target: str | None, period: str) -> CostCommand:
    """The command `cost <deployment|all> period=<period>` parses to (the period read by the
    grammar's own value reader)."""
    name = target or ALL
    if not _TARGET.fullmatch(name):
        raise ValidationFailed(f"{name!r} is not a deployment id the cost command can take.")
    return CostCommand(
        raw=f"cost {name} period={period}",
        target=None if name == ALL else name,
        period=parse_value("period", period),
    )


class CostView:
    """Period and deployment pickers and the spend table they select."""

    def __init__(
        self,
        deck: Callable[[], DeckAPI],
        actor: Callable[[], Actor],
        lock: threading.RLock,
    ) -> None:
        self._deck = deck
        self._actor = actor
        self._lock = lock
        self._quiet = False
        self.last_result: CostResult | None = None
        self.last_error: str | None = None
        self.last_command: CostCommand | None = None
        style = {"description_width": "90px"}
        self.period = W.Dropdown(
            description="Period", options=list(PERIODS), value="month", style=style
        )
        self.month = W.Text(
            description="Month",
            placeholder="YYYY-MM",
            continuous_update=False,
            style=style,
            layout=W.Layout(width="220px", display="none"),
        )
        self.deployment = W.Dropdown(
            description="Deployment",
            options=[("All deployments", ALL)],
            value=ALL,
            style=style,
            layout=W.Layout(width="100%", max_width="420px"),
        )
        self.show_button = W.Button(description="Show spend", icon="refresh")
        self.html = W.HTML()
        self.chart = W.Image(format="png", layout=W.Layout(max_width="100%", display="none"))
        self.chart.add_class("modeldeck-cost-chart")
        self.last_chart: SpendChart | None = None
        for widget, css in (
            (self.period, "modeldeck-cost-period"),
            (self.month, "modeldeck-cost-month"),
            (self.deployment, "modeldeck-cost-deployment"),
            (self.show_button, "modeldeck-cost-show"),
            (self.html, "modeldeck-cost"),
        ):
            widget.add_class(css)
        self.period.observe(self._on_period, names="value")
        self.month.observe(lambda _change: self.show(), names="value")
        self.deployment.observe(lambda _change: None if self._quiet else self.show(), names="value")
        self.show_button.on_click(lambda _button: self.show())
        self.box = W.VBox(
            [
                W.HBox([self.period, self.month]),
                W.HBox([self.deployment, self.show_button]),
                self.html,
                self.chart,
            ]
        )

    def _on_period(self, change: dict[str, Any]) -> None:
        custom = change["new"] == CUSTOM
        self.month.layout.display = None if custom else "none"
        if not custom or self.month.value.strip():
            self.show()

    def set_deployments(self, deployments: Iterable[DeploymentRecord]) -> None:
        """Offer these deployments (newest first), keeping the choice while it is offered."""
        rows = sorted(deployments, key=lambda d: d.created_at, reverse=True)
        options = [("All deployments", ALL)] + [(_label(d), d.id) for d in rows]
        previous = self.deployment.value
        self._quiet = True
        try:
            if list(self.deployment.options) != options:
                self.deployment.options = options
            values = [value for _, value in options]
            self.deployment.value = previous if previous in values else ALL
        finally:
            self._quiet = False

    def load_deployments(self) -> None:
        """Fill the picker from the deck (unpublished ones too: they may have cost money)."""
        try:
            with self._lock:
                rows = self._deck().list_deployments(include_deleted=True)
        except Exception as exc:
            log.debug("listing deployments for costs failed", exc_info=True)
            self.html.value = error_html(exc)
            return
        self.set_deployments(rows)

    def draw(self, result: CostResult) -> None:
        """Draw the spend with the core chart module, as a PNG (offline, no CDN, Voila too)."""
        from modeldeck.charts import render

        try:
            chart = spend_chart(result)
            self.chart.value = render(chart, "png")
        except Exception:  # the table still says it all
            log.warning("the spend chart could not be drawn", exc_info=True)
            self.chart.layout.display = "none"
            return
        self.last_chart = chart
        self.chart.layout.display = None

    def show(self) -> CostResult | None:
        """Run `cost` for the pickers' period and deployment; show the table or the error."""
        try:
            deck = self._deck()
            period = period_value(self.period.value, self.month.value)
            target = self.deployment.value
            command = cost_command(None if target == ALL else target, period)
            self.last_command = command
            with self._lock:
                result = deck.run(command, self._actor())
            from modeldeck.results import CostResult  # heavy (the store's types): not at paint
            from modeldeck_jupyter.tables import cost_html

            if not isinstance(result, CostResult):
                raise ValidationFailed(f"The cost command returned no table: {result.text}")
            label = "all deployments" if target == ALL else str(self.deployment.label)
            html = cost_html(result.report, label)
        except Exception as exc:
            log.debug("cost query failed", exc_info=not isinstance(exc, UserError))
            self.last_result = None
            self.last_error = error_text(exc)
            self.html.value = error_html(exc)
            return None
        self.last_result = result
        self.last_error = None
        self.draw(result)
        stamp = to_beijing(utcnow()).strftime("%H:%M:%S")
        self.html.value = html + (
            f"<div style='{MUTED};font-size:0.9em'>updated {stamp} (UTC+8)</div>"
        )
        return result


def spend_chart(result: CostResult) -> SpendChart:
    """The period's spend to date as the core's spend chart (start at zero, now at the total)."""
    report = result.report
    now = min(utcnow(), report.period.end)
    start = min(report.period.start, now)
    return SpendChart(
        title=f"Spend {report.period.name} to date ({report.target})",
        currency=report.currency,
        actual=[SpendPoint(at=start, amount=Decimal(0)), SpendPoint(at=now, amount=report.total)],
    )


def _label(dep: DeploymentRecord) -> str:
    name = dep.name or dep.deployed_model or dep.id
    gone = " (unpublished)" if dep.status.upper() == "DELETED" else ""
    return f"{name} · {dep.model} {dep.plan}{gone}"


def total_of(result: CostResult) -> Decimal:
    """The exact total of a cost result (for scripts and tests)."""
    return result.report.total
