"""A create whose answer is lost, through `approve`: one deployment, the truth told, never an
"import" of our own deployment, never a second create with another suffix."""

from __future__ import annotations

import httpx
import pytest

from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import DecisionOutcome, DeploySpec, RequestRecord, RequestStatus
from modeldeck.provider import derive_suffix
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments

CREATE = {"method": "POST", "path": "/api/v1/deployments"}
LOOKUPS = {"method": "GET", "path": "/api/v1/deployments"}
ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)


def approve_one(deck: Deck, spec: DeploySpec = ONE_UNIT) -> tuple[RequestRecord, DecisionOutcome]:
    req = deck.request_deploy(spec, deck.resolve_actor("jupyter", "alice"))
    return req, deck.approve(req.id, deck.resolve_actor("slack", "U0BOB"))


def no_import(deck: Deck) -> None:
    assert "import" not in [r["action"] for r in read_audit(deck.store)]


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(kind="error", status=500, times=1, after_handler=True, **CREATE),
        FaultRule(kind="error", status=503, times=1, after_handler=True, **CREATE),
        FaultRule(kind="drop", times=1, after_handler=True, **CREATE),
    ],
    ids=["created-then-500", "created-then-503", "created-then-dropped"],
)
def test_a_lost_create_answer_is_adopted_and_the_approver_told(
    make_deck: MakeDeck, sandbox: RunningSandbox, rule: FaultRule
) -> None:
    deck = make_deck()
    sandbox.sandbox.set_faults([rule])
    req, outcome = approve_one(deck)
    assert outcome.outcome == "executed"
    assert outcome.request.status == RequestStatus.EXECUTED
    assert "first answer was lost" in outcome.message and "adopted" in outcome.message
    assert [d["deployed_model"] for d in sandbox_deployments(sandbox)] == [
        f"qwen3-32b-{derive_suffix(req.id)}"
    ]
    assert sandbox.sandbox.created_count() == 1
    Reconciler(deck).run_once()
    assert len(deck.list_deployments()) == 1
    no_import(deck)


def test_a_create_the_service_never_processed_fails_and_nothing_bills(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    sandbox.sandbox.set_faults([FaultRule(kind="error", status=500, times=1, **CREATE)])
    _, outcome = approve_one(deck)
    assert outcome.outcome == "failed" and outcome.request.status == RequestStatus.FAILED
    assert sandbox_deployments(sandbox) == [] and deck.list_deployments() == []


def unknown_faults() -> list[FaultRule]:
    """The create is applied and its answer lost, and every look-up fails as well."""
    return [
        FaultRule(kind="error", status=500, times=1, after_handler=True, **CREATE),
        FaultRule(kind="error", status=503, **LOOKUPS),
    ]


def test_an_unknown_outcome_stays_executing_and_the_reconciler_adopts_it(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(provider={"max_retries": 0})
    sandbox.sandbox.set_faults(unknown_faults())
    req, outcome = approve_one(deck)
    assert outcome.request.status == RequestStatus.EXECUTING
    assert outcome.outcome != "failed" and "being checked" in outcome.message
    assert outcome.request.refs.get("outcome") == "unknown"
    assert deck.list_deployments() == []

    sandbox.sandbox.set_faults([])  # Model Studio answers again
    report = Reconciler(deck).run_once()
    assert report.imported == []
    final = deck.get_request(req.id)
    assert final.status == RequestStatus.EXECUTED and final.deployment_id is not None
    assert final.refs.get("adopted") == "true"
    dep = deck.get_deployment(final.deployment_id)
    assert dep.request_id == req.id and not dep.imported
    assert sandbox.sandbox.created_count() == 1 and len(sandbox_deployments(sandbox)) == 1
    no_import(deck)


def test_an_unknown_outcome_proven_absent_fails(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(provider={"max_retries": 0})
    sandbox.sandbox.set_faults(
        [
            FaultRule(kind="error", status=500, times=1, **CREATE),  # never processed
            FaultRule(kind="error", status=503, times=3, **LOOKUPS),
        ]
    )
    req, outcome = approve_one(deck)
    assert outcome.request.status == RequestStatus.EXECUTING
    sandbox.sandbox.set_faults([])
    Reconciler(deck).run_once()
    final = deck.get_request(req.id)
    assert final.status == RequestStatus.FAILED and "nothing was created" in (final.error or "")
    assert sandbox.sandbox.created_count() == 0


def test_the_sandbox_fault_kinds_are_real(sandbox: RunningSandbox) -> None:
    """Guard: the lookup fault really answers 503 (the tests above rely on it)."""
    sandbox.sandbox.set_faults([FaultRule(kind="error", status=503, **LOOKUPS)])
    assert sandbox.http.get("/api/v1/deployments").status_code == 503
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.http.get("/api/v1/deployments").raise_for_status()
