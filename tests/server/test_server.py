"""The server over real HTTP: health, OpenAPI, REST workflow, errors, and RemoteDeck parity."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from modeldeck.domain import Actor, DeploySpec
from modeldeck.errors import ConflictError, NotFound, UserError
from modeldeck.server.client import RemoteDeck
from modeldeck.testing import Stack


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
    spec = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20000, output_tpm=2000,
                      hours=10)
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


def test_deploy_approve_run_unpublish_over_rest(stack: Stack) -> None:
    remote = RemoteDeck(stack.server_url)
    alice = remote.resolve_actor("jupyter", "alice")
    bob = remote.resolve_actor("slack", "U0BOB")
    req = remote.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice, "eval")
    assert req.status.value == "pending" and req.policy.approvers_required == 1
    assert [r.id for r in remote.list_requests("pending")] == [req.id]
    with pytest.raises(ConflictError, match="cannot approve"):
        remote.approve(req.id, alice)
    outcome = remote.approve(req.id, bob)
    assert outcome.outcome == "executed", outcome.message
    again = remote.approve(req.id, bob)
    assert again.outcome == "already_decided"
    dep_id = outcome.request.deployment_id
    assert dep_id is not None
    assert wait_for_status(remote, dep_id, "RUNNING") == "RUNNING"
    # the sandbox holds exactly one deployment
    listing = httpx.get(f"{stack.sandbox_url}/api/v1/deployments",
                        headers={"Authorization": "Bearer sk-sandbox"}).json()
    assert listing["output"]["total"] == 1
    result = remote.run(f"unpublish {dep_id} confirm", alice)
    assert result.ok, result.text
    assert wait_for_status(remote, dep_id, "DELETED") == "DELETED"


def test_run_grammar_over_rest(stack: Stack) -> None:
    remote = RemoteDeck(stack.server_url)
    actor = Actor(principal="carol", surface="api", roles=["viewer"])
    result = remote.run("estimate Qwen3-32B mu units=2 duration=90m30s", actor)
    assert result.data["total"].startswith("121.33")
    with pytest.raises(UserError, match="may not request"):
        remote.run("deploy qwen3-32b mu units=1", actor)
