"""The reconciler and requests in flight: never an "import" of our own deployment, never a
failure made out of a provider outage, never a second order for a re-run deploy."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec, RequestStatus
from modeldeck.provider import build_create_body
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.serving import free_port
from modeldeck.store import repo
from modeldeck.store.models import DeploymentRow, OrderRow
from modeldeck.timeutil import utcnow
from modeldeck.workflow import execution
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)
# An order modeldeck buys through the API (monthly MU packages are bought in the console).
UPFRONT = DeploySpec(
    model="qwen3-max-2025-09-23",
    plan="ptu",
    input_tpm=10000,
    output_tpm=1000,
    billing="upfront",
    days=7,
)


def claim(deck: Deck, request_id: str, by: str) -> None:
    """Approve and claim a request the way an executor does, without running it."""
    with deck.store.session() as session:
        repo.transition(
            session, request_id, RequestStatus.PENDING, RequestStatus.APPROVED, decided_at=utcnow()
        )
        assert repo.transition(
            session,
            request_id,
            RequestStatus.APPROVED,
            RequestStatus.EXECUTING,
            claimed_by=by,
            claimed_at=utcnow(),
        )


def test_another_replicas_pass_leaves_a_deploy_in_flight_to_its_executor(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    req = deck.request_deploy(ONE_UNIT, deck.resolve_actor("jupyter", "alice"))
    claim(deck, req.id, deck.worker_id)  # a live executor: this very process
    # the executor's create reached Model Studio; its answer is not recorded yet
    deck.provider.create_deployment(build_create_body(ONE_UNIT), idempotency_key=req.id)
    assert len(sandbox_deployments(sandbox)) == 1

    other_replica = make_deck(database_url=deck.settings.effective_database_url)
    report = Reconciler(other_replica).run_once()
    assert report.imported == [] and report.recovered == []
    with deck.store.session() as session:
        assert session.scalar(select(func.count()).select_from(DeploymentRow)) == 0

    final = deck.run_claimed(req.id)  # the executor goes on
    assert final.status == RequestStatus.EXECUTED
    dep = deck.get_deployment(final.deployment_id or "")
    assert dep.request_id == req.id and not dep.imported
    assert sandbox.sandbox.created_count() == 1
    assert "import" not in [r["action"] for r in read_audit(deck.store)]


def test_a_provider_outage_does_not_fail_a_stuck_execution(make_deck: MakeDeck) -> None:
    deck = make_deck()
    req = deck.request_deploy(ONE_UNIT, deck.resolve_actor("jupyter", "alice"))
    claim(deck, req.id, f"{socket.gethostname()}:999999999")  # an executor that is gone
    down = make_deck(
        database_url=deck.settings.effective_database_url,
        sandbox={"host": "127.0.0.1", "port": free_port()},  # nothing listens there
        provider={"max_retries": 0, "timeout_seconds": 2},
    )
    report = Reconciler(down).run_once()
    assert not report.provider_reachable and report.recovered == []
    assert deck.get_request(req.id).status == RequestStatus.EXECUTING  # kept for the next pass

    report = Reconciler(deck).run_once()  # Model Studio is back
    assert report.recovered == [req.id]
    assert deck.get_request(req.id).status == RequestStatus.EXECUTED


def test_a_rerun_deploy_records_its_upfront_order_once(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    """A crash after the order was written but before the outcome: the re-run adds none."""
    deck = make_deck(policy={"two_approvers_for_upfront": False})
    req = deck.request_deploy(UPFRONT, deck.resolve_actor("jupyter", "alice"))
    claim(deck, req.id, deck.worker_id)
    record = deck.get_request(req.id)
    execution.apply(deck, record)  # the first run got this far, then its process died
    execution.apply(deck, record)  # the recovery runs it again with the same idempotency key
    with deck.store.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == 1
        assert session.scalar(select(func.count()).select_from(DeploymentRow)) == 1
    assert sandbox.sandbox.created_count() == 1
