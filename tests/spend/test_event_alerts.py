"""Alerts for what happens once, against the sandbox over HTTP: a capacity changed in the console
(the reconciler feeds it to the capacity-mismatch rule), a failed execution and a console
import each raise one `AlertRaised`, once across passes and replicas, routed by the config."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modeldeck import events, plugins
from modeldeck.domain import RequestStatus
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from modeldeck.results import RequestResult
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from tests.spend.spendhelpers import MakeDeck

AUTO = {"auto_approve_below_usd_per_day": 100_000}
ROUTES = {
    "routes": [
        {"kind": "capacity_mismatch", "channel": "#capacity"},
        {"kind": "execution_failed", "channel": "#ops"},
        {"kind": "console_import", "scope": "deployment:*", "channel": "#ops"},
    ],
    # only the event alerts: the periodic rules (idle, budgets...) are not what is tested here
    "evaluate_in_reconciler": False,
}


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
    pm.register(found, name="event-alert-listener")
    yield found
    pm.unregister(found)


def test_a_capacity_changed_in_the_console_raises_one_mismatch_alert_once(
    make_deck: MakeDeck, sandbox: RunningSandbox, listener: Listener
) -> None:
    deck = make_deck(policy=AUTO, alerts=ROUTES)
    replica = make_deck(policy=AUTO, alerts=ROUTES, data_dir=deck.settings.data_dir)
    made = deck.run(
        parse("deploy qwen3-32b mu units=1 suffix=cap"), deck.resolve_actor("cli", "alice")
    )
    assert isinstance(made, RequestResult) and made.request.status == RequestStatus.EXECUTED
    code = "qwen3-32b-cap"
    sandbox.wait_for_status(sandbox.client(), code, "RUNNING")
    deck.refresh()
    assert listener.raised == []  # what modeldeck bought is what runs
    sandbox.client().scale_deployment(code, capacity=3)  # behind modeldeck's back
    sandbox.wait_for_status(sandbox.client(), code, "RUNNING")
    deck.refresh()
    replica.refresh()
    deck.refresh()
    (alert,) = listener.raised
    dep = deck.get_deployment(code)
    assert (alert.kind, alert.scope, alert.channels) == (
        "capacity_mismatch",
        f"deployment:{dep.id}",
        ["#capacity"],
    )
    assert alert.data == {"recorded": "1 unit(s)", "observed": "3 unit(s)"}
    assert "Model Studio reports 3 unit(s)" in alert.message
    assert dep.units == 3  # the store follows Model Studio
    assert [a.kind for a in deck.alerts().alerts] == ["capacity_mismatch"]


def test_a_ptu_reservation_scaled_behind_modeldecks_back_raises_one_mismatch_alert(
    make_deck: MakeDeck, sandbox: RunningSandbox, listener: Listener
) -> None:
    """Reservations generation: the observed capacity is the code's total over its capacity
    instances (in kTPM on the wire), compared with what modeldeck bought."""
    deck = make_deck(policy=AUTO, alerts=ROUTES)
    words = "deploy qwen3-max-2025-09-23 ptu in=10000 out=1000 suffix=res"
    made = deck.run(parse(words), deck.resolve_actor("cli", "alice"))
    assert isinstance(made, RequestResult) and made.request.status == RequestStatus.EXECUTED
    code = "qwen3-max-2025-09-23-res"
    sandbox.wait_for_status(sandbox.client(), code, "RUNNING")
    deck.refresh()
    sandbox.client().scale_deployment(code, ptu_capacity={"input_tpm": 20000, "output_tpm": 2000})
    sandbox.wait_for_status(sandbox.client(), code, "RUNNING")
    deck.refresh()
    deck.refresh()
    (alert,) = listener.raised
    assert alert.kind == "capacity_mismatch"
    assert alert.data == {
        "recorded": "10,000 in / 1,000 out TPM",
        "observed": "20,000 in / 2,000 out TPM",
    }
    assert deck.get_deployment(code).input_tpm == 20000


def test_a_failed_execution_raises_one_alert_routed_to_its_channel(
    make_deck: MakeDeck, sandbox: RunningSandbox, listener: Listener
) -> None:
    deck = make_deck(policy=AUTO, alerts=ROUTES)
    sandbox.sandbox.set_faults(
        [FaultRule(kind="error", status=500, times=1, method="POST", path="/api/v1/deployments")]
    )
    result = deck.run(parse("deploy qwen3-32b mu units=1"), deck.resolve_actor("cli", "alice"))
    assert isinstance(result, RequestResult) and result.request.status == RequestStatus.FAILED
    deck.refresh()
    (alert,) = listener.raised
    assert (alert.kind, alert.scope, alert.severity, alert.channels) == (
        "execution_failed",
        f"request:{result.request.id}",
        "critical",
        ["#ops"],
    )
    assert alert.data["request"] == result.request.id and alert.data["error"]
    assert "sk-sandbox" not in alert.message  # the masked error, never a secret


def test_a_console_import_raises_one_alert_across_replicas(
    make_deck: MakeDeck, sandbox: RunningSandbox, listener: Listener
) -> None:
    deck = make_deck(alerts=ROUTES)
    replica = make_deck(alerts=ROUTES, data_dir=deck.settings.data_dir)
    body = {
        "model_name": "qwen3-32b",
        "plan": "mu",
        "capacity": 1,
        "deploy_spec": "MU1",
        "billing_method": "POST_PAY",
        "suffix": "console",
    }
    resp = sandbox.http.post("/_sandbox/console/deployments", json=body)
    assert resp.status_code == 200, resp.text
    deck.refresh()
    replica.refresh()
    deck.refresh()
    (alert,) = listener.raised
    dep = deck.get_deployment("qwen3-32b-console")
    assert (alert.kind, alert.scope, alert.channels) == (
        "console_import",
        f"deployment:{dep.id}",
        ["#ops"],
    )
    assert "made in the console" in alert.message
