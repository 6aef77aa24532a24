"""Create → RUNNING → list → scale → delete → 404, over raw HTTP against the sandbox."""

from __future__ import annotations

import re

from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MU_BODY, PTU_BODY, MakeSandbox, call, ok, wait_status

GMT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,2})?$")


def test_mu_lifecycle(sb: RunningSandbox) -> None:
    created = ok(sb, "POST", "/deployments", json={**MU_BODY, "suffix": "life"})
    assert created["status"] == "PENDING"
    assert created["deployed_model"] == "qwen3-32b-life"
    assert created["capacity"] == 2 and created["ready_capacity"] == 0
    assert GMT_RE.match(created["gmt_create"])  # Beijing time, no zone

    running = wait_status(sb, "qwen3-32b-life", "RUNNING")
    assert running["ready_capacity"] == 2

    page = ok(sb, "GET", "/deployments")
    assert page["total"] == 1
    assert [d["deployed_model"] for d in page["deployments"]] == ["qwen3-32b-life"]

    scaled = ok(sb, "PUT", "/deployments/qwen3-32b-life/scale", json={"capacity": 4})
    assert scaled["status"] == "UPDATING"
    assert scaled["capacity"] == 4 and scaled["ready_capacity"] == 2
    assert wait_status(sb, "qwen3-32b-life", "RUNNING")["ready_capacity"] == 4

    assert ok(sb, "DELETE", "/deployments/qwen3-32b-life")["status"] == "DELETING"
    sb.sandbox.advance(60)
    gone = call(sb, "GET", "/deployments/qwen3-32b-life")
    assert gone.status_code == 404
    assert gone.json()["code"] == "NotFound"
    assert gone.json()["message"] == "Model: qwen3-32b-life not found!"
    assert ok(sb, "GET", "/deployments")["total"] == 0


def test_legacy_ptu_scale_changes_tpm(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(api_generation="legacy")
    created = ok(sb, "POST", "/deployments", json=PTU_BODY)
    assert created["ptu_capacity"] == {"input_tpm": 10000, "output_tpm": 1000}
    code = created["deployed_model"]
    wait_status(sb, code, "RUNNING")
    target = {"input_tpm": 20000, "output_tpm": 2000}
    scaled = ok(sb, "PUT", f"/deployments/{code}/scale", json={"ptu_capacity": target})
    assert scaled["status"] == "UPDATING" and scaled["ptu_capacity"] == target
    # Legacy has no capacity instances.
    assert call(sb, "GET", f"/deployments/{code}/capacity-instances").status_code == 404
