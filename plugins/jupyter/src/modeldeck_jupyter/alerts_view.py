"""The Alerts tab: this period's alerts, and each new one as it is raised in this kernel.

The list is `deck.alerts()` (evaluates the rules once, raises what is due, lists the month's
alerts). New alerts arrive live from the `AlertRaised` events this process publishes (the
plugin's `track_event` hands them to every open view). Routing: an alert whose routes name no
channel goes to every surface; one routed to channels reaches the notebook only when a channel
is `notebook` (or `jupyter`); the period's list still shows every alert.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.events import AlertRaised
from modeldeck.timeutil import to_beijing
from modeldeck_jupyter.render import MUTED, error_html, esc

log = logging.getLogger(__name__)
NOTEBOOK_CHANNELS = frozenset({"notebook", "jupyter"})
SEVERITY_COLORS = {
    "critical": "var(--jp-error-color1,#b00020)",
    "warning": "var(--jp-warn-color1,#b36b00)",
    "info": "var(--jp-info-color1,#0b61a4)",
}
_views: weakref.WeakSet[AlertsView] = weakref.WeakSet()
_views_lock = threading.Lock()


def routed_here(event: AlertRaised) -> bool:
    """Whether an alert's routes send it to the notebook (no route: every surface)."""
    return not event.channels or bool(NOTEBOOK_CHANNELS & set(event.channels))


def deliver(event: Any) -> None:
    """Hand an AlertRaised to every open Alerts view (called by the plugin's track_event)."""
    if not isinstance(event, AlertRaised) or not routed_here(event):
        return
    with _views_lock:
        views = list(_views)
    for view in views:
        view.add(event)


class AlertItem:
    """One alert as the tab lists it (from the period's list or a live event)."""

    def __init__(
        self, alert_id: int, severity: str, title: str, text: str, kind: str, scope: str,
        at: datetime, live: bool = False,
    ) -> None:  # fmt: skip
        self.alert_id, self.severity, self.title, self.text = alert_id, severity, title, text
        self.kind, self.scope, self.at, self.live = kind, scope, at, live

    def html(self) -> str:
        color = SEVERITY_COLORS.get(self.severity, "inherit")
        stamp = to_beijing(self.at).strftime("%Y-%m-%d %H:%M")
        new = " <b class='modeldeck-alert-new'>new</b>" if self.live else ""
        return (
            f"<div class='modeldeck-alert' style='border-left:3px solid {color};"
            f"padding:2px 8px;margin:4px 0'><b style='color:{color}'>{esc(self.severity)}</b> "
            f"{esc(self.title)}{new}<div>{esc(self.text)}</div>"
            f"<div style='{MUTED};font-size:0.9em'>{esc(self.kind)} · {esc(self.scope)} · "
            f"{esc(stamp)} (UTC+8) · #{self.alert_id}</div></div>"
        )


class AlertsView:
    """The period's alerts, newest first, with a Check-now button; live ones marked new."""

    def __init__(self, deck: Callable[[], DeckAPI], lock: threading.RLock) -> None:
        self._deck = deck
        self._lock = lock
        self.items: dict[int, AlertItem] = {}
        self.last_error: str | None = None
        self.check_button = W.Button(description="Check now", icon="bell")
        self.check_button.add_class("modeldeck-alerts-check")
        self.status_html = W.HTML()
        self.html = W.HTML()
        self.html.add_class("modeldeck-alerts")
        self.check_button.on_click(lambda _b: self.refresh())
        self.box = W.VBox([W.HBox([self.check_button, self.status_html]), self.html])
        with _views_lock:
            _views.add(self)
        self._draw()

    def refresh(self) -> None:
        """Evaluate the rules once (raising what is due) and list the period's alerts."""
        try:
            with self._lock:
                report = self._deck().alerts()
        except Exception as exc:
            log.debug("listing alerts failed", exc_info=True)
            self.last_error = str(exc)
            self.status_html.value = error_html(exc)
            return
        self.last_error = None
        for alert in report.alerts:
            live = alert.id in self.items and self.items[alert.id].live
            self.items[alert.id] = AlertItem(
                alert.id, alert.severity, alert.title, alert.text, alert.kind, alert.scope,
                alert.raised_at, live,
            )  # fmt: skip
        stamp = to_beijing(report.now).strftime("%H:%M:%S")
        self.status_html.value = (
            f"<span style='{MUTED}'>{len(report.alerts)} alert(s) since "
            f"{to_beijing(report.since).strftime('%Y-%m-%d')}, checked {stamp} (UTC+8)</span>"
        )
        self._draw()

    def add(self, event: AlertRaised) -> None:
        """A live alert: listed at once, marked new."""
        self.items[event.alert_id] = AlertItem(
            event.alert_id, event.severity, event.title, event.message, event.kind, event.scope,
            event.at, live=True,
        )  # fmt: skip
        self._draw()

    def _draw(self) -> None:
        if not self.items:
            self.html.value = f"<span style='{MUTED}'>No alerts this period.</span>"
            return
        ordered = sorted(self.items.values(), key=lambda i: (i.at, i.alert_id), reverse=True)
        self.html.value = "".join(item.html() for item in ordered)

    def close(self) -> None:
        with _views_lock:
            _views.discard(self)
