"""Hard budgets make a request need an admin (named on the card); the reconciler's pass raises
due alerts once across replicas and publishes each as an `AlertRaised` event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modeldeck import events, plugins
from modeldeck.domain import RequestStatus
from modeldeck.errors import PermissionDenied
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from tests.spend.spendhelpers import MakeDeck

AUTO = {"auto_approve_below_usd_per_day": 100_000}
HARD = [{"name": "search", "scope": "tag:team=search", "amount_usd": 1, "hard": True}]


class Listener:
    def __init__(self) -> None:
        self.raised: list[events.AlertRaised] = []

    @hookimpl
    def track_event(self, event: events.Event, deck: Any) -> None:
        if isinstance(event, events.AlertRaised):
            self.raised.append(event)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    pm = plugins.get_plugin_manager()
    pm.register(found, name="alert-listener")
    yield found
    pm.unregister(found)


def test_a_request_that_crosses_a_hard_budget_needs_an_admin(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO, budgets=HARD)
    alice = deck.resolve_actor("cli", "alice")
    outside = deck.run(parse("deploy qwen3-32b mu units=1 suffix=ads tags=team=ads"), alice)
    assert outside.request.status == RequestStatus.EXECUTED  # type: ignore[attr-defined]

    held = deck.run(parse("deploy qwen3-32b mu units=1 tags=team=search"), alice)
    request = held.request  # type: ignore[attr-defined]
    assert request.status == RequestStatus.PENDING
    assert request.policy.approver_role == "admin" and not request.policy.auto_approve
    assert "hard budget search" in request.policy.rule and "admin" in request.policy.rule
    assert "hard budget search" in held.text
    with pytest.raises(PermissionDenied, match="admin"):
        deck.approve(request.id, deck.resolve_actor("cli", "bob"))
    outcome = deck.approve(request.id, deck.resolve_actor("cli", "dave"))
    assert outcome.request.status in (RequestStatus.EXECUTED, RequestStatus.EXECUTING)


def test_a_budget_set_hard_applies_to_the_next_request(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO)
    deck.run(parse("budget set name=all amount=1 hard=on"), deck.resolve_actor("cli", "dave"))
    held = deck.run(parse("deploy qwen3-32b mu units=1"), deck.resolve_actor("cli", "alice"))
    assert held.request.policy.approver_role == "admin"  # type: ignore[attr-defined]
    assert "hard budget all" in held.request.policy.rule  # type: ignore[attr-defined]


def test_the_reconciler_raises_each_alert_once_across_replicas(
    make_deck: MakeDeck, listener: Listener
) -> None:
    budgets = [{"name": "tiny", "amount_usd": "0.01"}]
    routes = {"routes": [{"kind": "forecast_overrun", "channel": "#spend"}]}
    deck = make_deck(policy=AUTO, budgets=budgets, alerts=routes)
    replica = make_deck(
        policy=AUTO, budgets=budgets, alerts=routes, data_dir=deck.settings.data_dir
    )
    deck.run(parse("deploy qwen3-32b mu units=1"), deck.resolve_actor("cli", "alice"))
    deck.refresh()
    replica.refresh()
    deck.refresh()
    ids = [e.alert_id for e in listener.raised]
    assert len(ids) == len(set(ids)) and ids
    overrun = [e for e in listener.raised if e.kind == "forecast_overrun"]
    assert len(overrun) == 1 and overrun[0].channels == ["#spend"]
    assert overrun[0].scope == "budget:tiny"


def test_the_reconciler_can_leave_alerts_to_the_alerts_verb(
    make_deck: MakeDeck, listener: Listener
) -> None:
    deck = make_deck(
        policy=AUTO,
        budgets=[{"name": "tiny", "amount_usd": "0.01"}],
        alerts={"evaluate_in_reconciler": False},
    )
    deck.run(parse("deploy qwen3-32b mu units=1"), deck.resolve_actor("cli", "alice"))
    deck.refresh()
    assert listener.raised == []
    assert deck.alerts().new


def test_a_scale_up_over_a_hard_budget_needs_an_admin_but_an_unpublish_does_not(
    make_deck: MakeDeck,
) -> None:
    deck = make_deck(policy=AUTO)
    alice, dave = deck.resolve_actor("cli", "alice"), deck.resolve_actor("cli", "dave")
    made = deck.run(parse("deploy qwen3-32b mu units=1 tags=team=search"), alice)
    dep_id = made.request.deployment_id  # type: ignore[attr-defined]
    deck.run(parse("budget set name=search amount=1 scope=tag:team=search hard=on"), dave)
    scaled = deck.run(parse(f"scale {dep_id} units=2"), alice)
    assert scaled.request.status == RequestStatus.PENDING  # type: ignore[attr-defined]
    assert "hard budget search" in scaled.request.policy.rule  # type: ignore[attr-defined]
    gone = deck.run(parse(f"unpublish {dep_id} confirm"), alice)
    assert gone.request.policy.approver_role != "admin"  # type: ignore[attr-defined]
    assert "hard budget" not in gone.request.policy.rule  # type: ignore[attr-defined]
