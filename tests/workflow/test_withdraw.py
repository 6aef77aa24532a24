"""The requester can withdraw their own pending request (in-process, over REST); nobody else."""

from __future__ import annotations

import pytest

from modeldeck import plugins
from modeldeck.audit import read_audit
from modeldeck.domain import Actor, RequestStatus
from modeldeck.errors import PermissionDenied
from modeldeck.events import Event
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.tokens import create_token
from tests.workflow.test_capabilities import ONE_UNIT, TEAM
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    @hookimpl
    def track_event(self, event: Event) -> None:
        self.seen.append(event)


def test_the_requester_withdraws_their_pending_request(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    alice = deck.resolve_actor("jupyter", "alice")
    bob = deck.resolve_actor("slack", "U0BOB")
    req = deck.request_deploy(ONE_UNIT, alice, "try it")
    recorder = Recorder()
    plugins.get_plugin_manager().register(recorder)
    try:
        with pytest.raises(PermissionDenied, match="Only alice, who requested"):
            deck.withdraw(req.id, bob)
        assert deck.get_request(req.id).status == RequestStatus.PENDING
        out = deck.withdraw(req.id, alice)
    finally:
        plugins.get_plugin_manager().unregister(recorder)
    assert out.outcome == "withdrawn" and out.request.status == RequestStatus.WITHDRAWN
    assert [e.name for e in recorder.seen] == ["request_withdrawn"]
    again = deck.withdraw(req.id, alice)
    assert again.outcome == "already_decided" and "withdrawn by alice" in again.message
    late = deck.approve(req.id, bob)
    assert late.outcome == "already_decided" and sandbox_deployments(sandbox) == []
    actions = [(r["actor"], r["action"]) for r in read_audit(deck.store, subject=req.id)]
    assert ("alice", "withdraw") in actions


def test_withdraw_over_rest(make_deck: MakeDeck) -> None:
    from modeldeck.server import create_app

    deck = make_deck(principals=TEAM)
    tokens = {p["name"]: create_token(deck.store, p["name"])[1] for p in TEAM}
    with ServerThread(create_app(deck, deck.settings)) as server:
        alice = RemoteDeck(server.url, tokens["alice"])
        bob = RemoteDeck(server.url, tokens["bob"])
        try:
            me = Actor(principal="alice", surface="api", roles=["deployer"])
            req = alice.request_deploy(ONE_UNIT, me)
            with pytest.raises(PermissionDenied, match="Only alice"):
                bob.withdraw(req.id, Actor(principal="bob", surface="api"))
            out = alice.withdraw(req.id, me)
        finally:
            alice.close()
            bob.close()
    assert out.outcome == "withdrawn" and out.request.status == RequestStatus.WITHDRAWN


def test_the_withdraw_verb(make_deck: MakeDeck) -> None:
    deck = make_deck()
    alice = deck.resolve_actor("jupyter", "alice")
    req = deck.request_deploy(ONE_UNIT, alice)
    with pytest.raises(PermissionDenied, match="Only alice"):
        deck.run(parse(f"withdraw {req.id}"), deck.resolve_actor("slack", "U0BOB"))
    result = deck.run(parse(f"withdraw {req.id}"), alice)
    assert result.ok and "status: withdrawn" in result.text
    assert deck.get_request(req.id).status == RequestStatus.WITHDRAWN
