"""The audit log: configuration changes, requests and decisions, exported as JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modeldeck.audit import read_audit
from modeldeck.config_audit import record_config_change
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.settings import Settings
from modeldeck.store import Store


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
