"""The server over real HTTP: health, OpenAPI, REST workflow, errors, and RemoteDeck parity."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from modeldeck.domain import Actor, DeploySpec
from modeldeck.errors import ConflictError, NotFound, UserError
from modeldeck.grammar import parse
from modeldeck.results import EstimateResult
from modeldeck.server.client import RemoteDeck
from modeldeck.testing import Stack
from modeldeck.tokens import create_token


@pytest.fixture
def stack() -> Iterator[Stack]:
    with Stack() as s:
        yield s


def wait_for_status(deck: RemoteDeck, ref: str, status: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        deck.refresh()
        seen = deck.get_deployment(ref).status
        if seen == status:
            return seen
        time.sleep(0.1)
    return seen


def test_health_openapi_and_metrics(stack: Stack) -> None:
    health = httpx.get(f"{stack.server_url}/healthz").json()
    assert health["status"] == "ok" and health["store"] == "sqlite"
    paths = httpx.get(f"{stack.server_url}/openapi.json").json()["paths"]
    assert {"/api/estimate", "/api/requests/deploy", "/api/deployments"} <= set(paths)
    metrics = httpx.get(f"{stack.server_url}/metrics").text
    assert "modeldeck_requests_pending 0" in metrics


def test_estimate_matches_in_process_deck(stack: Stack) -> None:
    remote = RemoteDeck(stack.server_url)
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20000, output_tpm=2000, hours=10
    )
    assert stack.deck is not None
    assert remote.estimate(spec) == stack.deck.estimate(spec)
    assert str(remote.estimate(spec).total) in ("31.20", "31.2", "31.200")


def test_user_errors_travel_as_the_same_class(stack: Stack) -> None:
    remote = RemoteDeck(stack.server_url)
    with pytest.raises(UserError) as err:
        remote.estimate(DeploySpec(model="no-such-model", plan="ptu", input_tpm=10000))
    assert "no-such-model" in str(err.value)
    with pytest.raises(NotFound):
        remote.get_deployment("nothing-here")
    resp = httpx.post(f"{stack.server_url}/api/estimate", json={"model": "x"})
    assert resp.status_code == 422  # schema validation by FastAPI, with a JSON body
    assert "plan" in resp.text


@pytest.mark.slow
def test_deploy_approve_run_unpublish_over_rest(stack: Stack) -> None:
    """Open mode: each caller is who its token names (the body's actor names nobody)."""
    assert stack.deck is not None
    remote = RemoteDeck(stack.server_url, token=create_token(stack.deck.store, "alice")[1])
    as_bob = RemoteDeck(stack.server_url, token=create_token(stack.deck.store, "bob")[1])
    alice = remote.resolve_actor("jupyter", "alice")
    bob = as_bob.resolve_actor("slack", "U0BOB")
    assert (alice.principal, bob.principal) == ("alice", "bob")
    req = remote.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice, "eval")
    assert req.status.value == "pending" and req.policy.approvers_required == 1
    assert req.requester == "alice"
    assert [r.id for r in remote.list_requests("pending")] == [req.id]
    with pytest.raises(ConflictError, match="cannot approve"):
        remote.approve(req.id, bob)  # alice's token, whatever the body says
    outcome = as_bob.approve(req.id, bob)
    assert outcome.outcome == "executed", outcome.message
    again = as_bob.approve(req.id, bob)
    assert again.outcome == "already_decided"
    dep_id = outcome.request.deployment_id
    assert dep_id is not None
    assert wait_for_status(remote, dep_id, "RUNNING") == "RUNNING"
    # the sandbox holds exactly one deployment
    listing = httpx.get(
        f"{stack.sandbox_url}/api/v1/deployments", headers={"Authorization": "Bearer sk-sandbox"}
    ).json()
    assert listing["output"]["total"] == 1
    result = remote.run(parse(f"unpublish {dep_id} confirm"), alice)
    assert result.ok, result.text
    assert wait_for_status(remote, dep_id, "DELETED") == "DELETED"


def test_run_grammar_over_rest() -> None:
    with Stack(principals=[{"name": "carol", "roles": ["viewer"]}]) as stack:
        assert stack.deck is not None
        token = create_token(stack.deck.store, "carol")[1]
        remote = RemoteDeck(stack.server_url, token=token)
        _run_as_a_viewer(remote)
        _run_takes_a_parsed_command_never_text(stack.server_url, token)


def _run_as_a_viewer(remote: RemoteDeck) -> None:
    forged = Actor(principal="dave", surface="api", roles=["admin"])  # ignored: the token rules
    result = remote.run(parse("estimate Qwen3-32B mu units=2 duration=90m30s"), forged)
    assert isinstance(result, EstimateResult)  # the typed result, read back by its kind
    assert str(result.estimate.total).startswith("121.33")
    with pytest.raises(UserError, match="may not request"):
        remote.run(parse("deploy qwen3-32b mu units=1"), forged)


def _run_takes_a_parsed_command_never_text(url: str, token: str) -> None:
    """The server validates the command JSON with the grammar's models; text is not parsed."""
    auth = {"Authorization": f"Bearer {token}"}
    actor = Actor(principal="carol", surface="api", roles=["viewer"]).model_dump()
    text = httpx.post(f"{url}/api/run", json={"text": "models", "actor": actor}, headers=auth)
    assert text.status_code == 422
    bad = {"verb": "estimate", "spec": {"model": "qwen3-32b", "plan": "gpu"}}
    resp = httpx.post(f"{url}/api/run", json={"command": bad, "actor": actor}, headers=auth)
    assert resp.status_code == 400 and "spec.plan" in resp.text
    ok = {"verb": "models"}
    resp = httpx.post(f"{url}/api/run", json={"command": ok, "actor": actor}, headers=auth)
    assert resp.status_code == 200 and resp.json()["kind"] == "models"


def test_a_viewer_may_not_spend_on_the_playground() -> None:
    """Calling a deployed model bills overflow tokens: `POST /api/playground` needs `request`."""
    from modeldeck.errors import PermissionDenied

    with Stack(principals=[{"name": "carol", "roles": ["viewer"]}]) as stack:
        assert stack.deck is not None
        remote = RemoteDeck(stack.server_url, token=create_token(stack.deck.store, "carol")[1])
        try:
            with pytest.raises(PermissionDenied, match="may not request"):
                remote.playground("any-deployment", "hello")
        finally:
            remote.close()
