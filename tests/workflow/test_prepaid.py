"""Scaling prepaid capacity follows the prepaid policy and updates the stored order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from modeldeck.audit import read_audit
from modeldeck.domain import DeploySpec, RequestStatus, ScaleSpec
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.store.models import OrderRow
from tests.workflow.test_targets import PTU, who
from tests.workflow.wfhelpers import MakeDeck


def test_scaling_an_upfront_order_needs_two_approvers_and_reprices_the_order(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy={"two_approvers_for_upfront": True})
    spec = DeploySpec(
        model=PTU, plan="ptu", billing="upfront", input_tpm=20000, output_tpm=2000, days=3
    )
    alice, bob, carol = who(deck, "alice"), who(deck, "bob"), who(deck, "carol")
    req = deck.request_deploy(spec, alice)
    assert deck.approve(req.id, bob).outcome == "recorded"
    done = deck.approve(req.id, carol)
    assert done.outcome == "executed", done.message
    dep = deck.get_deployment(done.request.deployment_id or "")
    with sandbox.client() as client:
        sandbox.wait_for_status(client, dep.deployed_model or "", "RUNNING")
    deck.refresh()
    with deck.store.session() as session:
        (order,) = session.scalars(select(OrderRow)).all()
        assert order.amount == Decimal(done.request.estimate.total)  # type: ignore[union-attr]
        order_id = order.id

    scale = deck.request_scale(ScaleSpec(deployment=dep.id, input_tpm=40000), alice)
    assert scale.policy.approvers_required == 2 and "upfront" in scale.policy.rule
    assert scale.target is not None and scale.target.days == 3  # priced over the order's term
    expected = deck.estimate(spec.model_copy(update={"input_tpm": 40000}))
    assert scale.estimate is not None and Decimal(scale.estimate.total) == Decimal(expected.total)

    first = deck.approve(scale.id, bob)
    assert first.outcome == "recorded" and "(1 of 2)" in first.message
    assert deck.get_request(scale.id).status == RequestStatus.PENDING
    second = deck.approve(scale.id, carol)
    assert second.outcome == "executed", second.message
    with deck.store.session() as session:
        repriced = session.get(OrderRow, order_id)
        assert repriced is not None and repriced.amount == Decimal(expected.total)
    (entry,) = [
        r for r in read_audit(deck.store, subject=order_id) if r["action"] == "order_repriced"
    ]
    assert entry["detail"]["new"] == str(Decimal(expected.total))
    assert entry["detail"]["request"] == scale.id
