"""The Compare tab: a plan's two billing methods side by side for some hours a day, with break-even.

The figures are the core's: `deck.estimate(spec with compare=True, hours_per_day=...)` fills
`Estimate.comparison` (rows made by `modeldeck.billing.compare`: billing, hours_per_day, per_day,
per_30_days, currency, cheaper, break_even_hours_per_day, all money as decimal strings). This
module asks for them and renders them; amounts are rounded half-up to cents only for display.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.domain import DeploySpec, Estimate
from modeldeck.errors import UserError
from modeldeck.grammar import parse_hours_per_day as grammar_hours_per_day
from modeldeck_jupyter.render import MUTED, error_html, error_text, esc

log = logging.getLogger(__name__)


def parse_hours_per_day(text: str) -> Decimal:
    """Hours a day in (0, 24], read by the grammar's own `hours_per_day=` reader (so `1,0,0`
    is refused here as it is in `%deck`; a trailing `h` is allowed, as the field suggests)."""
    cleaned = text.strip().lower().removesuffix("h").strip()
    return grammar_hours_per_day(cleaned)


class CompareView:
    """Hours-a-day input, Compare button and the comparison of the form's model/plan/capacity."""

    def __init__(
        self,
        deck: Callable[[], DeckAPI],
        spec: Callable[[], DeploySpec],
        lock: threading.RLock,
    ) -> None:
        self._deck = deck
        self._spec = spec
        self._lock = lock
        self.last_estimate: Estimate | None = None
        self.last_error: str | None = None
        self.stale = True
        self.hours_per_day = W.Text(
            description="Hours a day",
            value="24",
            placeholder="how many hours a day it would run (0-24)",
            continuous_update=False,
            style={"description_width": "90px"},
            layout=W.Layout(width="340px"),
        )
        self.compare_button = W.Button(description="Compare", icon="balance-scale")
        self.subject_html = W.HTML()
        self.html = W.HTML()
        for widget, css in (
            (self.hours_per_day, "modeldeck-compare-hours"),
            (self.compare_button, "modeldeck-compare-button"),
            (self.html, "modeldeck-compare"),
        ):
            widget.add_class(css)
        self.hours_per_day.observe(lambda _change: self.update(), names="value")
        self.compare_button.on_click(lambda _button: self.update())
        self.box = W.VBox(
            [
                W.HTML(
                    f"<span style='{MUTED}'>Compares the two billing methods of the plan "
                    "chosen in <b>Estimate &amp; deploy</b>, for the same capacity.</span>"
                ),
                W.HBox([self.hours_per_day, self.compare_button]),
                self.subject_html,
                self.html,
            ]
        )

    def update(self) -> Estimate | None:
        """Ask the deck for the comparison now and show it, or the error in red."""
        self.stale = False
        try:
            deck = self._deck()
            hours = parse_hours_per_day(self.hours_per_day.value)
            spec = self._spec().model_copy(update={"compare": True, "hours_per_day": hours})
            self.subject_html.value = f"<span style='{MUTED}'>{esc(_subject(spec))}</span>"
            with self._lock:
                estimate = deck.estimate(spec)
            from modeldeck_jupyter.tables import comparison_html  # after the first paint

            html = comparison_html(estimate)
        except Exception as exc:
            log.debug("comparison failed", exc_info=not isinstance(exc, UserError))
            self.last_estimate = None
            self.last_error = error_text(exc)
            self.html.value = error_html(exc)
            return None
        self.last_estimate = estimate
        self.last_error = None
        self.html.value = html
        return estimate


def _subject(spec: DeploySpec) -> str:
    return f"{spec.model} · {spec.plan} · {spec.mode} · {spec.capacity}"
