"""The Alerts tab (issue 12, alerts routed to the notebook): this period's alerts, and new ones
live from the `AlertRaised` events the process publishes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from modeldeck.events import AlertRaised
from modeldeck.grammar import DeployCommand, parse
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.alerts_view import routed_here
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.panel import ALERTS_TAB

AUTO = {"auto_approve_below_usd_per_day": Decimal("100000")}
# A cent for the whole month: any running deployment's forecast overruns it at once.
TINY = {"name": "tiny", "scope": "workspace", "amount_usd": "0.01"}


@pytest.fixture(scope="module")
def alert_stack() -> Iterator[Stack]:
    # the reconciler (deck.refresh) raises nothing here: the test decides when alerts are raised
    with Stack(policy=AUTO, budgets=[TINY], alerts={"evaluate_in_reconciler": False}) as running:
        assert running.deck is not None
        command = parse("deploy qwen3-32b mu units=1 suffix=alrt")
        assert isinstance(command, DeployCommand)
        deck = running.deck
        record = deck.request_deploy(command.spec, deck.resolve_actor("jupyter", "bob"))
        assert record.deployment_id is not None
        for _ in range(100):
            deck.refresh()
            if str(deck.get_deployment(record.deployment_id).status) == "RUNNING":
                break
            time.sleep(0.1)
        yield running


@pytest.fixture
def panel(alert_stack: Stack) -> Iterator[DeckPanel]:
    assert alert_stack.deck is not None
    built = Deck(alert_stack.deck, user="bob", auto_refresh=False)
    yield built
    built.close()


def test_an_alert_raised_elsewhere_in_the_kernel_shows_live(
    panel: DeckPanel, alert_stack: Stack
) -> None:
    assert alert_stack.deck is not None
    assert "No alerts this period" in visible_text(panel.alerts.html.value)
    report = alert_stack.deck.alerts()  # as the reconciler or `%deck alerts` would
    overrun = [a for a in report.new if a.kind == "forecast_overrun"]
    assert overrun, [a.kind for a in report.new]
    shown = visible_text(panel.alerts.html.value)  # no refresh: the event delivered it
    assert overrun[0].title in shown and "new" in shown
    assert overrun[0].id in panel.alerts.items and panel.alerts.items[overrun[0].id].live

    other = Deck(alert_stack.deck, user="bob", auto_refresh=False)
    try:
        other.tabs.selected_index = ALERTS_TAB  # opening the tab lists the period's alerts
        assert other.alerts.last_error is None, other.alerts.last_error
        listed = visible_text(other.alerts.html.value)
        assert all(a.title in listed for a in report.alerts)
        assert "alert(s) since" in visible_text(other.alerts.status_html.value)
        assert alert_stack.deck.alerts().new == []  # raised once: a second check adds none
    finally:
        other.close()


def test_routing_sends_alerts_with_other_channels_elsewhere() -> None:
    def event(*channels: str) -> AlertRaised:
        return AlertRaised(
            alert_id=1, kind="idle", scope="workspace", period="2026-03", severity="info",
            title="t", message="m", channels=list(channels),
        )  # fmt: skip

    assert routed_here(event())  # no route: every surface
    assert routed_here(event("#spend", "notebook"))
    assert not routed_here(event("#spend"))


def test_a_closed_panel_gets_no_more_alerts(alert_stack: Stack) -> None:
    from modeldeck_jupyter import alerts_view

    assert alert_stack.deck is not None
    panel = Deck(alert_stack.deck, user="bob", auto_refresh=False)
    view = panel.alerts
    panel.close()
    assert view not in set(alerts_view._views)
