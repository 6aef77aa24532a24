"""Capacity changes through approve: only a SUCCEEDED operation changes what modeldeck shows and
bills; a pending one is polled to its end by the reconciler; a live prepaid PTU is explained when
its unpublish is asked for, never failed after the approvals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec, RequestRecord, RequestStatus, ScaleSpec
from modeldeck.errors import ConflictError
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from tests.workflow.wfhelpers import PRINCIPALS

HOURLY = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
UPFRONT = HOURLY.model_copy(update={"billing": "upfront", "days": 7})


@pytest.fixture
def fast() -> Iterator[RunningSandbox]:
    with running_sandbox(deploy_delay_seconds=0.05, operation_delay_seconds=0.05) as running:
        yield running


def deck_for(
    sb: RunningSandbox,
    tmp_path: Path,
    transport: httpx.BaseTransport | None = None,
    **provider: Any,
) -> Deck:
    from modeldeck.provider.factory import make_client

    settings = Settings(
        data_dir=tmp_path / "deck",
        principals=PRINCIPALS,
        sandbox={"host": sb.server.host, "port": sb.server.port},
        provider=provider,
    )
    client = make_client(settings, transport=transport) if transport is not None else None
    return Deck(settings, provider=client)


def through(deck: Deck, req: RequestRecord) -> RequestRecord:
    """Approve until the policy's quorum is met (bob, then carol)."""
    for who in ("U0BOB", "U0CAROL"):
        if deck.get_request(req.id).status != RequestStatus.PENDING:
            break
        deck.approve(req.id, deck.resolve_actor("slack", who))
    return deck.get_request(req.id)


def deployed(deck: Deck, sb: RunningSandbox, spec: DeploySpec) -> str:
    alice = deck.resolve_actor("jupyter", "alice")
    done = through(deck, deck.request_deploy(spec, alice))
    assert done.status == RequestStatus.EXECUTED, done.error
    sb.advance(5)
    deck.refresh()
    return done.deployment_id or ""


def test_a_failed_operation_fails_the_scale_and_changes_nothing(
    fast: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(fast, tmp_path)) as deck:
        dep_id = deployed(deck, fast, HOURLY)
        fast.sandbox.set_faults([FaultRule(kind="operation_failed", method="PUT", code="BadLuck")])
        alice = deck.resolve_actor("jupyter", "alice")
        req = deck.request_scale(ScaleSpec(deployment=dep_id, input_tpm=20000), alice)
        final = through(deck, req)
        assert final.status == RequestStatus.FAILED and "BadLuck" in (final.error or "")
        assert deck.get_deployment(dep_id).input_tpm == 10000


def test_a_pending_operation_stays_executing_until_the_reconciler_sees_it_succeed(
    tmp_path: Path,
) -> None:
    slow = running_sandbox(deploy_delay_seconds=0.05, operation_delay_seconds=60)
    with slow as sb, closing(deck_for(sb, tmp_path, operation_timeout_seconds=0.3)) as deck:
        dep_id = deployed(deck, sb, HOURLY)
        alice = deck.resolve_actor("jupyter", "alice")
        req = deck.request_scale(ScaleSpec(deployment=dep_id, input_tpm=20000), alice)
        waiting = through(deck, req)
        assert waiting.status == RequestStatus.EXECUTING
        assert waiting.refs.get("outcome") == "pending" and waiting.refs.get("operation")
        assert deck.get_deployment(dep_id).input_tpm == 10000  # not billed before SUCCEEDED
        Reconciler(deck).run_once()
        assert deck.get_request(req.id).status == RequestStatus.EXECUTING
        sb.advance(120)
        Reconciler(deck).run_once()
        assert deck.get_request(req.id).status == RequestStatus.EXECUTED
        assert deck.get_deployment(dep_id).input_tpm == 20000


def test_unpublishing_a_live_prepaid_ptu_is_refused_at_request_time(
    fast: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(fast, tmp_path)) as deck:
        dep_id = deployed(deck, fast, UPFRONT)
        alice = deck.resolve_actor("jupyter", "alice")
        with pytest.raises(ConflictError) as info:
            deck.request_unpublish(dep_id, alice)
        text = str(info.value)
        assert "Expenses > Unsubscribe" in text and "1.2x" in text and "refunds $" in text
        assert deck.list_requests() and all(r.kind != "unpublish" for r in deck.list_requests())


class ReportsOtherCapacity(httpx.HTTPTransport):
    """The sandbox over HTTP, except that once armed, a scale's answer and a deployment read back
    show `units` model units whatever was applied (a service that changed something else)."""

    def __init__(self) -> None:
        super().__init__()
        self.units: int | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        path = request.url.path
        read_back = request.method == "GET" and path.count("/") == 4  # GET …/deployments/{code}
        if self.units is None or not (read_back or path.endswith("/scale")):
            return response
        response.read()
        body = response.json()
        if isinstance(body.get("output"), dict):
            body["output"]["capacity"] = self.units
        return httpx.Response(response.status_code, json=body, headers={"x-request-id": "r"})


def test_a_capacity_mismatch_is_an_alarm_not_a_success(
    fast: RunningSandbox, tmp_path: Path
) -> None:
    from modeldeck.audit import read_audit

    transport = ReportsOtherCapacity()
    with closing(deck_for(fast, tmp_path, transport)) as deck:
        mu = DeploySpec(model="qwen3-32b", plan="mu", units=1)
        dep_id = deployed(deck, fast, mu)
        transport.units = 3
        alice = deck.resolve_actor("jupyter", "alice")
        req = deck.request_scale(ScaleSpec(deployment=dep_id, units=2), alice)
        final = through(deck, req)
        assert final.status == RequestStatus.FAILED
        assert final.error == "capacity mismatch: asked units=2, Model Studio reports units=3"
        assert deck.get_deployment(dep_id).units == 3  # billed as what runs
        assert "capacity_mismatch" in [r["action"] for r in read_audit(deck.store)]
