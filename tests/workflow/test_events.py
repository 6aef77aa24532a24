"""Typed events: emitted once per change, audited, delivered to each plugin on its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from modeldeck import events, plugins
from modeldeck.audit import read_audit
from modeldeck.domain import DeploySpec
from modeldeck.errors import ConfigError, NotFound
from modeldeck.hookspecs import hookimpl
from modeldeck.provider import build_create_body
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.tokens import create_token, revoke_token
from tests.workflow.wfhelpers import MakeDeck

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)


class Broken:
    """Raises in every notification hook it implements."""

    @hookimpl
    def track_event(self, event: events.Event, deck: Any) -> None:
        raise RuntimeError("broken plugin")

    @hookimpl
    def request_created(self, request: Any, deck: Any) -> None:
        raise RuntimeError("broken plugin")


class Listener:
    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self.created: list[str] = []

    @hookimpl
    def track_event(self, event: events.Event, deck: Any) -> None:
        self.events.append(event)

    @hookimpl
    def request_created(self, request: Any, deck: Any) -> None:
        self.created.append(request.id)

    def names(self) -> list[str]:
        return [e.name for e in self.events]


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    pm = plugins.get_plugin_manager()
    pm.register(found, name="listener")
    yield found
    pm.unregister(found)


def test_a_failing_plugin_never_hides_an_event_from_another(
    make_deck: MakeDeck, sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Two plugins; the one called first raises. The other still gets every event and hook."""
    listener, broken = Listener(), Broken()
    pm = plugins.get_plugin_manager()
    pm.register(listener, name="listener")
    pm.register(broken, name="broken")  # registered last, so pluggy calls it first
    try:
        deck = make_deck()
        req = deck.request_deploy(ONE_UNIT, deck.resolve_actor("jupyter", "alice"))
    finally:
        pm.unregister(broken)
        pm.unregister(listener)
    assert listener.created == [req.id]
    assert "request_created" in listener.names()
    assert "plugin broken failed in hook request_created" in caplog.text
    assert "plugin broken failed in hook track_event" in caplog.text


def test_the_workflow_emits_typed_events_in_order(
    listener: Listener, make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    alice, bob = deck.resolve_actor("jupyter", "alice"), deck.resolve_actor("jupyter", "bob")
    listener.events.clear()  # the deck's start recorded the configuration
    req = deck.request_deploy(ONE_UNIT, alice, "a test")
    deck.approve(req.id, bob)
    names = listener.names()
    assert names[: names.index("execution_succeeded") + 1] == [
        "request_created",
        "request_decided",
        "execution_started",
        "deployment_status_changed",
        "execution_succeeded",
    ]
    created = listener.events[0]
    assert isinstance(created, events.RequestCreated) and created.request.id == req.id
    assert created.actor == "alice" and created.surface == "jupyter"
    decided = listener.events[1]
    assert isinstance(decided, events.RequestDecided) and decided.verdict == "approve"
    done = listener.events[names.index("execution_succeeded")]
    assert isinstance(done, events.ExecutionSucceeded)
    assert done.request.status.value == "executed"
    # audit is the first subscriber: each audited event left exactly its record
    actions = [r["action"] for r in read_audit(deck.store, subject=req.id)]
    assert actions == ["request", "approve", "executed"]


def test_the_reconciler_emits_import_status_and_drift_events(
    listener: Listener, make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    outside = deck.provider.create_deployment(build_create_body(ONE_UNIT))  # "the console"
    Reconciler(deck).run_once()
    imported = [e for e in listener.events if isinstance(e, events.DeploymentImported)]
    assert [e.deployment.deployed_model for e in imported] == [outside.deployed_model]
    dep_id = imported[0].deployment.id
    client = sandbox.client()
    sandbox.wait_for_status(client, outside.deployed_model, "RUNNING")
    client.scale_deployment(outside.deployed_model, capacity=3)  # scaled in the console
    sandbox.wait_for_status(client, outside.deployed_model, "RUNNING")
    Reconciler(deck).run_once()
    drift = [e for e in listener.events if isinstance(e, events.DriftDetected)]
    assert drift and drift[0].deployment_id == dep_id
    assert drift[0].provider == {"units": 3} and drift[0].stored == {"units": 1}
    kinds = {r["action"] for r in read_audit(deck.store, subject=dep_id)}
    assert {"import", "drift"} <= kinds


def test_token_and_config_changes_are_events(
    listener: Listener, make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    assert "config_changed" in listener.names()  # the first start records every section
    token_id, _ = create_token(deck.store, "alice", deck=deck)
    revoke_token(deck.store, token_id, deck=deck)
    tokens = [e for e in listener.events if e.name in ("token_created", "token_revoked")]
    assert [(e.name, e.token_id) for e in tokens] == [  # type: ignore[attr-defined]
        ("token_created", token_id),
        ("token_revoked", token_id),
    ]
    assert "mdk_" not in repr(listener.events)  # the token itself never travels in an event


def test_register_events_knows_every_core_event_and_refuses_a_duplicate_name() -> None:
    names = events.event_types()
    assert set(names) >= {cls.name for cls in events.CORE_EVENTS}

    class Clash:
        @hookimpl
        def register_events(self, register: Any) -> None:
            register(events.RequestCreated)  # the core registers this name already

    pm = plugins.get_plugin_manager()
    clash = Clash()
    pm.register(clash, name="clash")
    try:
        with pytest.raises(ConfigError, match="Two plugins register the event 'request_created'"):
            events.event_types()
    finally:
        pm.unregister(clash)


def test_a_failed_execution_is_an_event_with_its_error(
    listener: Listener, make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    """Unpublishing what the console already deleted fails at the provider: one failure event."""
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 100_000})
    alice, bob = deck.resolve_actor("jupyter", "alice"), deck.resolve_actor("jupyter", "bob")
    deployed = deck.request_deploy(ONE_UNIT, alice)
    dep = deck.get_deployment(deployed.deployment_id or "")
    client = sandbox.client()
    sandbox.wait_for_status(client, dep.deployed_model or "", "RUNNING")
    client.delete_deployment(dep.deployed_model or "")  # gone in the console, not yet reconciled
    for _ in range(200):
        try:
            client.get_deployment(dep.deployed_model or "")
        except NotFound:
            break
        time.sleep(0.05)
    unpublish = deck.request_unpublish(dep.id, alice)
    if unpublish.status.value == "pending":  # when the policy wants an approver for unpublish
        unpublish = deck.approve(unpublish.id, bob).request
    assert unpublish.status.value == "failed" and unpublish.error
    failed = [e for e in listener.events if isinstance(e, events.ExecutionFailed)]
    assert [e.request.id for e in failed] == [unpublish.id]
    assert failed[0].error == unpublish.error
    assert [r["action"] for r in read_audit(deck.store, subject=unpublish.id)][-1] == "failed"
