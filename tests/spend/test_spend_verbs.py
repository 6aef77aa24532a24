"""`budget`, `budget set`, `cost … forecast` and `alerts`: typed results from the deck, the same
over REST, stored budgets shared by replicas, alerts raised once and published as events."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from modeldeck import events, plugins
from modeldeck.errors import GrammarError, PermissionDenied, UserError
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from modeldeck.rendering import render
from modeldeck.results import AlertsResult, BudgetResult, BudgetSetResult, ForecastResult
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from tests.spend.spendhelpers import MakeDeck

AUTO = {"auto_approve_below_usd_per_day": 100_000}


class Listener:
    def __init__(self) -> None:
        self.events: list[events.Event] = []

    @hookimpl
    def track_event(self, event: events.Event, deck: Any) -> None:
        self.events.append(event)

    def of(self, kind: type[events.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    pm = plugins.get_plugin_manager()
    pm.register(found, name="spend-listener")
    yield found
    pm.unregister(found)


def _deploy(deck: Any, sandbox: RunningSandbox, words: str = "") -> str:
    alice = deck.resolve_actor("cli", "alice")
    result = deck.run(parse(f"deploy qwen3-32b mu units=1 {words}"), alice)
    assert result.ok
    dep = deck.get_deployment(result.request.deployment_id)
    sandbox.wait_for_status(sandbox.client(), dep.deployed_model or "", "RUNNING")
    return str(dep.id)


def test_budget_set_is_admin_only_stored_audited_and_shared(
    make_deck: MakeDeck, listener: Listener
) -> None:
    config = [{"name": "llm-team", "amount_usd": 5000, "thresholds": [50, 80, 100]}]
    deck = make_deck(policy=AUTO, budgets=config)
    dave = deck.resolve_actor("cli", "dave")
    alice = deck.resolve_actor("cli", "alice")
    with pytest.raises(PermissionDenied, match="configure"):
        deck.run(parse("budget set name=llm-team amount=1"), alice)

    result = deck.run(parse("budget set name=llm-team amount=1200.50 hard=on"), dave)
    assert isinstance(result, BudgetSetResult)
    assert result.budget.amount_usd == Decimal("1200.50") and result.budget.hard
    assert result.budget.thresholds == [50, 80, 100]  # kept from the configured budget
    added = deck.run(parse("budget set name=search amount=300 scope=tag:team=search"), dave)
    assert str(added.budget.scope) == "tag:team=search"  # type: ignore[attr-defined]

    # a replica on the same store sees both; the stored one replaced the configured one
    replica = make_deck(policy=AUTO, budgets=config, data_dir=deck.settings.data_dir)
    view = replica.run(parse("budget"), replica.resolve_actor("cli", "victor"))
    assert isinstance(view, BudgetResult)
    lines = {line.forecast.budget.name: line for line in view.report.lines}
    assert set(lines) == {"llm-team", "search"}
    assert lines["llm-team"].forecast.budget.amount_usd == Decimal("1200.50")
    assert lines["llm-team"].source == "store" and lines["llm-team"].status == "ok"
    text = view.text
    assert "llm-team" in text and "$1,200.50" in text and "hard" in text and "50%" in text

    changed = listener.of(events.BudgetChanged)
    assert [e.budget["name"] for e in changed] == ["llm-team", "search"]
    assert changed[0].replaced is None and changed[0].actor == "dave"
    audit = [a for a in deck.audit() if a["action"] == "budget_set"]
    assert [a["subject"] for a in audit] == ["llm-team", "search"]
    again = deck.run(parse("budget set name=search amount=400"), dave)
    assert str(again.budget.scope) == "tag:team=search"  # type: ignore[attr-defined]
    assert listener.of(events.BudgetChanged)[-1].replaced["amount_usd"] == "300"


def test_budget_set_refuses_what_it_cannot_store(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO)
    dave = deck.resolve_actor("cli", "dave")
    with pytest.raises(UserError, match="needs an amount"):
        deck.run(parse("budget set name=new"), dave)
    with pytest.raises(UserError, match="period"):
        deck.run(parse("budget set name=new amount=10 period=7d"), dave)
    with pytest.raises(GrammarError, match="not a scope"):
        parse("budget set name=new amount=10 scope=team")
    with pytest.raises(GrammarError, match="needs name="):
        parse("budget set amount=10")
    with pytest.raises(GrammarError, match="only the word 'set'"):
        parse("budget show")
    assert deck.budgets().lines == []


def test_cost_forecast_shows_to_date_reserved_to_come_and_assumptions(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy=AUTO)
    dep_id = _deploy(deck, sandbox)
    result = deck.run(parse(f"cost {dep_id} forecast"), deck.resolve_actor("cli", "victor"))
    assert isinstance(result, ForecastResult)
    [one] = result.report.forecasts
    assert one.deployment_id == dep_id and one.state == "running"
    assert one.reserved_to_come > 0 and one.assumptions
    assert "reserved to come" in result.text and "Assumptions" in result.text
    everything = deck.run(parse("cost all forecast"), deck.resolve_actor("cli", "victor"))
    assert [f.deployment_id for f in everything.report.forecasts] == [dep_id]  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="end still to come"):
        deck.forecast(dep_id, "all")


def test_alerts_raise_once_publish_events_with_routes(
    make_deck: MakeDeck, sandbox: RunningSandbox, listener: Listener
) -> None:
    deck = make_deck(
        policy=AUTO,
        budgets=[{"name": "tiny", "amount_usd": "0.01"}],
        alerts={"routes": [{"kind": "budget_threshold", "channel": "#spend"},
                           {"kind": "*", "scope": "budget:*", "channel": "#finance"}]},
    )  # fmt: skip
    _deploy(deck, sandbox)
    victor = deck.resolve_actor("cli", "victor")
    first = deck.run(parse("alerts"), victor)
    assert isinstance(first, AlertsResult)
    kinds = {a.kind for a in first.report.new}
    assert "forecast_overrun" in kinds
    raised = listener.of(events.AlertRaised)
    assert {e.alert_id for e in raised} == {a.id for a in first.report.new}
    overrun = next(e for e in raised if e.kind == "forecast_overrun")
    assert overrun.scope == "budget:tiny" and overrun.channels == ["#finance"]
    assert overrun.severity in ("warning", "critical") and overrun.message

    second = deck.run(parse("alerts"), victor)
    assert second.report.new == []  # type: ignore[attr-defined]
    assert {a.id for a in second.report.alerts} >= {a.id for a in first.report.new}  # type: ignore[attr-defined]
    assert len(listener.of(events.AlertRaised)) == len(raised)
    assert "0 new alert(s)" in second.text and "forecast_overrun" in second.text
    assert render(second, "cli")


def test_spend_verbs_over_rest_match_the_deck(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    from modeldeck.server import create_app

    deck = make_deck(principals=[], policy=AUTO, budgets=[{"name": "ws", "amount_usd": 100}])
    dep_id = _deploy(deck, sandbox)
    with ServerThread(create_app(deck, deck.settings)) as server:
        remote = RemoteDeck(server.url)
        try:
            me = remote.resolve_actor("cli", "someone")
            stored = remote.run(parse("budget set name=ws amount=250.25"), me)
            view = remote.run(parse("budget"), me)
            forecast = remote.forecast(dep_id)
            alerts = remote.run(parse("alerts"), me)
            direct = remote.budgets()
        finally:
            remote.close()
    assert isinstance(stored, BudgetSetResult) and stored.budget.amount_usd == Decimal("250.25")
    assert isinstance(view, BudgetResult) and isinstance(alerts, AlertsResult)
    assert direct.lines[0].forecast.budget.amount_usd == Decimal("250.25")
    assert [f.deployment_id for f in forecast.forecasts] == [dep_id]
    local = deck.budgets()
    assert local.lines[0].forecast.budget == view.report.lines[0].forecast.budget
