"""Submissions carry an idempotency key: a replay answers with the first request, never a second."""

from __future__ import annotations

import httpx
import pytest

from modeldeck.audit import read_audit
from modeldeck.domain import DeploySpec
from modeldeck.errors import ValidationFailed
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.tokens import create_token
from modeldeck.workflow import requests as workflow_requests
from tests.workflow.test_capabilities import TEAM
from tests.workflow.wfhelpers import MakeDeck

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)


def test_the_same_body_twice_over_rest_makes_one_request(make_deck: MakeDeck) -> None:
    from modeldeck.server import create_app

    deck = make_deck(principals=TEAM)
    tokens = {p["name"]: create_token(deck.store, p["name"])[1] for p in TEAM}
    body = {
        "spec": ONE_UNIT.model_dump(mode="json"),
        "actor": {"principal": "alice", "surface": "api", "roles": ["deployer"]},
        "reason": "eval",
    }
    with ServerThread(create_app(deck, deck.settings)) as server:
        headers = {"Authorization": f"Bearer {tokens['alice']}", "Idempotency-Key": "click-1"}
        with httpx.Client(base_url=server.url, headers=headers) as http:
            first = http.post("/api/requests/deploy", json=body)
            again = http.post("/api/requests/deploy", json=body)
            other = http.post(
                "/api/requests/deploy", json=body, headers={"Idempotency-Key": "click-2"}
            )
            bad = http.post(
                "/api/requests/deploy", json=body, headers={"Idempotency-Key": "x" * 201}
            )
        remote = RemoteDeck(server.url, tokens["alice"])
        try:
            replay = remote.request_deploy(
                ONE_UNIT, deck.resolve_actor("jupyter", "alice"), idempotency_key="click-1"
            )
        finally:
            remote.close()
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"] == replay.id
    assert other.status_code == 200 and other.json()["id"] != first.json()["id"]
    assert bad.status_code == 400 and "idempotency key" in bad.text
    assert len(deck.list_requests()) == 2
    created = [r for r in read_audit(deck.store) if r["action"] == "request"]
    assert len(created) == 2  # one audit record (and one card) per submission


def test_keys_are_per_requester(make_deck: MakeDeck) -> None:
    deck = make_deck()
    alice = deck.resolve_actor("jupyter", "alice")
    pat = deck.resolve_actor("jupyter", "pat")
    a = deck.request_deploy(ONE_UNIT, alice, idempotency_key="k")
    b = deck.request_deploy(ONE_UNIT, pat, idempotency_key="k")
    assert a.id != b.id and a.requester == "alice" and b.requester == "pat"
    assert deck.request_deploy(ONE_UNIT, pat, idempotency_key="k").id == b.id
    with pytest.raises(ValidationFailed, match="1 to 200 printable"):
        deck.request_deploy(ONE_UNIT, alice, idempotency_key="x" * 201)


def test_a_racing_replay_answers_with_the_first(
    make_deck: MakeDeck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replays that both passed the look-up: the store's unique key lets one in."""
    deck = make_deck()
    alice = deck.resolve_actor("jupyter", "alice")
    first = deck.request_deploy(ONE_UNIT, alice, idempotency_key="slack-trigger-1")
    monkeypatch.setattr(workflow_requests, "replayed", lambda *_: None)
    second = deck.request_deploy(ONE_UNIT, alice, idempotency_key="slack-trigger-1")
    assert second.id == first.id
    assert [r.id for r in deck.list_requests()] == [first.id]
    assert [r["action"] for r in read_audit(deck.store, subject=second.id)] == ["request"]


def test_a_command_run_with_a_key_makes_one_request_in_process_and_over_rest(
    make_deck: MakeDeck,
) -> None:
    """`DeckAPI.run` carries the surface's key (Slack's trigger_id, a notebook click) to the
    request, in process and through `RemoteDeck` (the Idempotency-Key header of /api/run)."""
    from modeldeck.grammar import parse
    from modeldeck.results import RequestResult
    from modeldeck.server import create_app

    deck = make_deck(principals=TEAM)
    token = create_token(deck.store, "alice")[1]
    alice = deck.resolve_actor("jupyter", "alice")
    command = parse("deploy qwen3-32b mu units=1")
    first = deck.run(command, alice, idempotency_key="trigger-1")
    again = deck.run(command, alice, idempotency_key="trigger-1")
    assert isinstance(first, RequestResult) and isinstance(again, RequestResult)
    assert again.request.id == first.request.id
    with ServerThread(create_app(deck, deck.settings)) as server:
        remote = RemoteDeck(server.url, token)
        try:
            over_rest = [remote.run(command, alice, idempotency_key="click-7") for _ in range(2)]
            replayed = remote.run(command, alice, idempotency_key="trigger-1")
        finally:
            remote.close()
    ids = [r.request.id for r in over_rest if isinstance(r, RequestResult)]
    assert len(ids) == 2 and ids[0] == ids[1] != first.request.id
    assert isinstance(replayed, RequestResult) and replayed.request.id == first.request.id
    assert len(deck.list_requests()) == 2
