"""The audit log: configuration changes, requests and decisions, exported as JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modeldeck.audit import read_audit
from modeldeck.config_audit import record_config_change
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.settings import Settings
from modeldeck.store import Store
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments


def test_config_changes_are_audited_once_per_change(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    first = Settings(data_dir=tmp_path, policy={"auto_approve_below_usd_per_day": 50})
    assert "policy" in record_config_change(store, first)
    assert record_config_change(store, first) == []  # unchanged: nothing appended
    second = Settings(data_dir=tmp_path, policy={"auto_approve_below_usd_per_day": 60})
    assert record_config_change(store, second) == ["policy"]
    records = [r for r in read_audit(store) if r["action"] == "config"]
    assert len(records) == 2
    assert records[-1]["detail"]["sections"]["policy"]["auto_approve_below_usd_per_day"] == "60"


@pytest.mark.slow
def test_requests_and_decisions_export_as_json_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    deck = Deck(Settings(data_dir=data))
    alice = Actor(principal="alice", surface="cli", roles=["deployer"])
    bob = Actor(principal="bob", surface="jupyter", roles=["approver"])
    req = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice, "why")
    deck.reject(req.id, bob, "too dear")
    deck.close()
    out = subprocess.run(
        [sys.executable, "-m", "modeldeck", "audit", "--jsonl", "--limit", "0"],
        capture_output=True,
        text=True,
        check=True,
        env={"MODELDECK_DATA_DIR": str(data), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    actions = [(r["actor"], r["surface"], r["action"]) for r in lines if r["subject"] == req.id]
    assert actions == [("alice", "cli", "request"), ("bob", "jupyter", "reject")]
    request_line = next(r for r in lines if r["action"] == "request")
    assert request_line["cost_estimate"] == "40"  # no duration given: one hour of one unit
    assert request_line["at"].endswith("+00:00") and request_line["at_beijing"].endswith("+08:00")


CREATE = {"method": "POST", "path": "/api/v1/deployments"}


def test_every_step_is_audited_with_who_where_and_what(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    """Request, each vote, the execution and a failure: actor, surface, time and estimate."""
    deck = make_deck(policy={"approvers_required": 2})
    alice = deck.resolve_actor("jupyter", "alice")
    ok = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice, "eval")
    deck.approve(ok.id, deck.resolve_actor("slack", "U0BOB"))
    deck.approve(ok.id, deck.resolve_actor("jupyter", "pat"))
    # Model Studio refuses the second create (a 400): a failure
    refuse = FaultRule(kind="error", status=400, code="InvalidParameter", **CREATE)
    sandbox.sandbox.set_faults([refuse])
    bad = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice)
    deck.approve(bad.id, deck.resolve_actor("slack", "U0BOB"))
    deck.approve(bad.id, deck.resolve_actor("jupyter", "pat"))

    trail = {
        rid: [(r["actor"], r["surface"], r["action"]) for r in read_audit(deck.store, subject=rid)]
        for rid in (ok.id, bad.id)
    }
    worker = deck.worker_id
    assert trail[ok.id] == [
        ("alice", "jupyter", "request"),
        ("bob", "slack", "approve"),
        ("pat", "jupyter", "approve"),
        (worker, "system", "executed"),
    ]
    assert trail[bad.id][-1] == (worker, "system", "failed")
    failed = read_audit(deck.store, subject=bad.id)[-1]
    assert "Model Studio" in failed["detail"]["error"]
    first = read_audit(deck.store, subject=ok.id)[0]
    assert first["cost_estimate"] == "40" and first["detail"]["reason"] == "eval"
    assert first["detail"]["policy"] == "2 approver(s) other than the requester"
    assert len(sandbox_deployments(sandbox)) == 1
