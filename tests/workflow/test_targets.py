"""What was approved is what runs: a request stores its complete target at request time, and a
request whose target changed or vanished can no longer be approved (it is stale, and says why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploymentRecord, DeploySpec, RequestStatus, ScaleSpec
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.store import repo
from modeldeck.store.deployments import capacity_of
from modeldeck.store.models import DeploymentRow
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments

PTU = "qwen3-max-2025-09-23"


def who(deck: Deck, name: str) -> Actor:
    surface, user = {"bob": ("slack", "U0BOB"), "carol": ("slack", "U0CAROL")}.get(
        name, ("jupyter", name)
    )
    return deck.resolve_actor(surface, user)  # type: ignore[arg-type]


def ptu_deployment(deck: Deck, sandbox: RunningSandbox) -> DeploymentRecord:
    """A running hourly PTU deployment at 20000 in / 2000 out, approved by bob."""
    spec = DeploySpec(model=PTU, plan="ptu", input_tpm=20000, output_tpm=2000)
    req = deck.request_deploy(spec, who(deck, "alice"))
    done = deck.approve(req.id, who(deck, "bob"))
    assert done.outcome == "executed", done.message
    dep = deck.get_deployment(done.request.deployment_id or "")
    with sandbox.client() as client:
        sandbox.wait_for_status(client, dep.deployed_model or "", "RUNNING")
    deck.refresh()
    return deck.get_deployment(dep.id)


def capacity_at_provider(sandbox: RunningSandbox) -> dict[str, Any]:
    """The PTU capacity Model Studio (the sandbox) holds, in TPM, asked through its API."""
    (only,) = sandbox_deployments(sandbox)
    with sandbox.client() as client:
        info = client.get_deployment(only["deployed_model"])
    return capacity_of(info)


def test_a_one_sided_scale_stores_the_other_direction_at_request_time(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    dep = ptu_deployment(deck, sandbox)
    only_in = deck.request_scale(ScaleSpec(deployment=dep.id, input_tpm=40000), who(deck, "alice"))
    assert only_in.scale is not None and only_in.scale.output_tpm == 2000
    assert only_in.target is not None
    assert (only_in.target.input_tpm, only_in.target.output_tpm) == (40000, 2000)
    assert only_in.target.billing == "hourly" and only_in.target.plan == "ptu"
    assert deck.get_request(only_in.id).target == only_in.target  # stored, not recomputed
    assert "40,000 in / 2,000 out TPM" in only_in.summary


def test_two_one_sided_scales_never_run_a_mix(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    """The finding: in= then out= approved left Model Studio at a capacity nobody approved."""
    deck = make_deck()
    dep = ptu_deployment(deck, sandbox)
    alice, bob = who(deck, "alice"), who(deck, "bob")
    more_in = deck.request_scale(ScaleSpec(deployment=dep.id, input_tpm=40000), alice)
    more_out = deck.request_scale(ScaleSpec(deployment=dep.id, output_tpm=4000), alice)

    first = deck.approve(more_in.id, bob)
    assert first.outcome == "executed", first.message
    assert capacity_at_provider(sandbox) == {"input_tpm": 40000, "output_tpm": 2000}

    second = deck.approve(more_out.id, bob)
    assert second.outcome == "already_decided"
    assert second.request.status == RequestStatus.STALE
    assert "input_tpm 20000 -> 40000" in (second.request.error or "")
    assert "can no longer be approved" in second.message
    assert second.request.decisions == []  # the vote on a stale target is not counted
    # Model Studio runs exactly the approved (and executed) target, never 40000 / 4000.
    assert capacity_at_provider(sandbox) == {"input_tpm": 40000, "output_tpm": 2000}
    actions = [(r["action"], r["detail"]) for r in read_audit(deck.store, subject=more_out.id)]
    assert ("stale", {"why": second.request.error}) in actions


def test_a_single_one_sided_scale_runs_its_complete_target(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    dep = ptu_deployment(deck, sandbox)
    req = deck.request_scale(ScaleSpec(deployment=dep.id, output_tpm=4000), who(deck, "alice"))
    assert deck.approve(req.id, who(deck, "bob")).outcome == "executed"
    assert capacity_at_provider(sandbox) == {"input_tpm": 20000, "output_tpm": 4000}
    now = deck.get_deployment(dep.id)
    assert (now.input_tpm, now.output_tpm) == (20000, 4000)


def test_a_pending_scale_on_an_unpublished_deployment_is_stale(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy={"unpublish_needs_approval": False})
    dep = ptu_deployment(deck, sandbox)
    alice = who(deck, "alice")
    scale = deck.request_scale(ScaleSpec(deployment=dep.id, input_tpm=30000), alice)
    gone = deck.request_unpublish(dep.id, alice)
    assert gone.status == RequestStatus.EXECUTED, gone.error
    (listed,) = [r for r in deck.list_requests() if r.id == scale.id]
    assert listed.status == RequestStatus.STALE
    assert "unpublished" in (listed.error or "")
    late = deck.approve(scale.id, who(deck, "bob"))
    assert late.outcome == "already_decided" and "can no longer be approved" in late.message
    assert [r["action"] for r in read_audit(deck.store, subject=scale.id)].count("stale") == 1


def test_execution_refuses_a_target_whose_deployment_changed(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    """An approved request that runs after the deployment changed refuses, with the reason."""
    deck = make_deck()
    dep = ptu_deployment(deck, sandbox)
    req = deck.request_scale(ScaleSpec(deployment=dep.id, input_tpm=40000), who(deck, "alice"))
    with deck.store.session() as session:
        repo.transition(session, req.id, RequestStatus.PENDING, RequestStatus.APPROVED)
        session.execute(
            update(DeploymentRow).where(DeploymentRow.id == dep.id).values(output_tpm=3000)
        )
    done = deck.execute(req.id)
    assert done.status == RequestStatus.FAILED
    assert "was not carried out" in (done.error or "") and "output_tpm 2000 -> 3000" in (
        done.error or ""
    )
    assert capacity_at_provider(sandbox) == {"input_tpm": 20000, "output_tpm": 2000}
