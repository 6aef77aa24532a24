"""Sandbox state and time: restarts keep deployments, the clock drives statuses and the upfront
timeline, forced and unknown statuses, failures, the admin API and the deployable models."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from modeldeck.provider import ModelStudioClient, ProviderNotFound
from modeldeck.sandbox import SandboxConfig, prepaid_expiry
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.timeutil import BEIJING
from tests.sandbox.sbhelpers import (
    MU_BODY,
    PTU_BODY,
    PTU_RESERVATION_BODY,
    MakeSandbox,
    ok,
    wait_status,
)

HOUR = 3600.0
UPFRONT = {
    **PTU_BODY,
    "charge_type": "pre_paid",
    "pre_paid_info": {"duration": 1, "auto_renewal": False},
}


def test_a_restarted_sandbox_keeps_its_deployments(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with running_sandbox(db_path=db, deploy_delay_seconds=0.2) as first:
        created = ok(first, "POST", "/deployments", json=MU_BODY)
        wait_status(first, created["deployed_model"], "RUNNING")
    with running_sandbox(db_path=db, deploy_delay_seconds=0.2) as second:
        again = ok(second, "GET", f"/deployments/{created['deployed_model']}")
        assert again["status"] == "RUNNING" and again["gmt_create"] == created["gmt_create"]
        assert second.sandbox.created_count() == 1


def test_clock_speed_turns_a_realistic_delay_into_a_short_one(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(deploy_delay_seconds=600, clock_speed=3000)  # 10 min at 3000x = 0.2 s
    with sb.client() as client:
        created = client.create_deployment(MU_BODY)
        assert created.status == "PENDING"
        running = sb.wait_for_status(client, created.deployed_model, "RUNNING", timeout=10)
    assert running is not None and running.gmt_modified is not None
    assert created.gmt_create is not None
    assert (running.gmt_modified - created.gmt_create).total_seconds() >= 600


def test_a_fresh_deployment_stays_pending_until_the_clock_moves(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(deploy_delay_seconds=600)
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    assert ok(sb, "GET", f"/deployments/{code}")["status"] == "PENDING"
    sb.sandbox.advance(601)
    assert ok(sb, "GET", f"/deployments/{code}")["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("ordered", "expires", "stops", "released"),
    [
        # billing-rules.md, worked example 5: ordered 10:00, and the same order at 22:30.
        ("2026-03-01T10:00", "2026-03-01T23:59:59", "2026-03-02T01:59:59", "2026-03-02T15:59:59"),
        ("2026-03-01T22:30", "2026-03-02T23:59:59", "2026-03-03T01:59:59", "2026-03-03T15:59:59"),
    ],
)
def test_upfront_timeline_follows_the_billing_calendar(
    make_sandbox: MakeSandbox, ordered: str, expires: str, stops: str, released: str
) -> None:
    start = datetime.fromisoformat(ordered).replace(tzinfo=BEIJING)
    sb = make_sandbox(start_time=start, api_generation="legacy")
    with sb.client() as client:
        info = client.create_deployment(UPFRONT)
        code = info.deployed_model
        assert info.charge_type == "pre_paid"
        assert info.pre_paid_gmt_expired == datetime.fromisoformat(expires).replace(tzinfo=BEIJING)
        sb.wait_for_status(client, code, "RUNNING")

        def jump_to(moment: str, offset: float) -> None:
            target = datetime.fromisoformat(moment).replace(tzinfo=BEIJING).timestamp() + offset
            sb.sandbox.advance(target - sb.sandbox.clock.now())

        jump_to(stops, -5)
        assert client.get_deployment(code).status == "RUNNING"
        jump_to(stops, 1)
        assert client.get_deployment(code).status == "STOPPED"
        jump_to(released, -5)
        assert client.get_deployment(code).status == "STOPPED"
        jump_to(released, 1)
        with pytest.raises(ProviderNotFound):
            client.get_deployment(code)


def test_auto_renewal_pushes_the_expiry(make_sandbox: MakeSandbox) -> None:
    start = datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
    sb = make_sandbox(start_time=start, api_generation="legacy")
    body = {**UPFRONT, "pre_paid_info": {"duration": 2, "auto_renewal": True}}
    with sb.client() as client:
        code = client.create_deployment(body).deployed_model
        sb.sandbox.advance(3 * 24 * HOUR)
        info = client.get_deployment(code)
    assert info.status == "RUNNING"
    assert info.pre_paid_gmt_expired == datetime(2026, 3, 4, 23, 59, 59, tzinfo=BEIJING)
    assert info.pre_paid_info is not None and info.pre_paid_info.auto_renewal_duration == 2


def test_prepaid_expiry_rule() -> None:
    at_2159 = datetime(2026, 3, 1, 21, 59, 59, tzinfo=BEIJING).timestamp()
    at_2200 = datetime(2026, 3, 1, 22, 0, 0, tzinfo=BEIJING).timestamp()
    day = datetime.fromtimestamp(prepaid_expiry(at_2159, 7), BEIJING)
    assert day == datetime(2026, 3, 7, 23, 59, 59, tzinfo=BEIJING)
    late = datetime.fromtimestamp(prepaid_expiry(at_2200, 7), BEIJING)
    assert late == datetime(2026, 3, 8, 23, 59, 59, tzinfo=BEIJING)


def test_forced_and_unknown_statuses(sb: RunningSandbox, client: ModelStudioClient) -> None:
    code = client.create_deployment(MU_BODY).deployed_model
    sb.sandbox.set_status(code, "ARREARS_DOWN")
    assert client.get_deployment(code).status == "ARREARS_DOWN"
    answer = sb.http.put(f"/_sandbox/deployments/{code}/status", json={"status": "HIBERNATING"})
    assert answer.status_code == 200
    info = client.get_deployment(code)
    assert info.status == "HIBERNATING" and info.known_status is None
    sb.http.put(f"/_sandbox/deployments/{code}/status", json={"status": None})
    assert sb.wait_for_status(client, code, "RUNNING") is not None


def test_a_model_configured_to_fail_ends_failed(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(failing_models=["qwen3-32b"])
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    failed = wait_status(sb, code, "FAILED")
    assert "refunded" in failed["fail_reason"]
    assert ok(sb, "DELETE", f"/deployments/{code}")["status"] == "DELETING"


def test_a_deleted_code_can_be_deployed_again(sb: RunningSandbox) -> None:
    body = {**MU_BODY, "suffix": "again"}
    ok(sb, "POST", "/deployments", json=body)
    ok(sb, "DELETE", "/deployments/qwen3-32b-again")
    # Idempotent while deleting.
    assert ok(sb, "DELETE", "/deployments/qwen3-32b-again")["status"] == "DELETING"
    sb.sandbox.advance(60)
    assert sb.http.get("/api/v1/deployments/qwen3-32b-again").status_code == 404
    assert ok(sb, "POST", "/deployments", json=body)["status"] == "PENDING"
    assert sb.sandbox.created_count("qwen3-32b") == 2


def test_admin_api_moves_the_clock_and_sets_faults(sb: RunningSandbox) -> None:
    before = sb.sandbox.clock.now()
    moved = sb.http.post("/_sandbox/clock/advance", json={"seconds": 7200})
    assert moved.status_code == 200
    assert sb.sandbox.clock.now() - before >= 7200
    rules = [{"kind": "error", "status": 503, "times": 1}]
    assert sb.http.put("/_sandbox/faults", json=rules).status_code == 200
    assert sb.http.get("/api/v1/deployments").status_code == 503
    assert sb.http.get("/api/v1/deployments").status_code == 200
    state = sb.http.get("/_sandbox/state").json()["output"]
    assert state["faults"][0]["status"] == 503 and state["member"] == "sandbox"
    assert sb.http.put("/_sandbox/faults", json=[{"kind": "boom"}]).status_code == 400
    assert sb.http.post("/_sandbox/clock/advance", json={"seconds": -1}).status_code == 400
    assert sb.http.get("/_sandbox/state", headers={"Authorization": "Bearer x"}).status_code == 401


def test_deployable_models_and_pages(client: ModelStudioClient) -> None:
    page = client.list_deployable_models(page_size=3)
    assert page.total == 9 and len(page.models) == 3
    everything = client.list_deployable_models(page_size=100).models
    by_name = {m.model_name: m for m in everything}
    assert by_name["qwen3-vl-8b-thinking"].base_capacity == 1
    assert by_name["deepseek-v3.2"].plan("ptu") is not None
    assert by_name["deepseek-v3.2"].model_extra is not None
    assert by_name["deepseek-v3.2"].model_extra["max_input_tokens"] == 64_000
    assert client.list_deployable_models(model_source="custom").total == 0


def test_list_pagination(client: ModelStudioClient) -> None:
    for suffix in ("a", "b", "c"):
        client.create_deployment({**MU_BODY, "suffix": suffix})
    first = client.list_deployments(page_no=1, page_size=2)
    second = client.list_deployments(page_no=2, page_size=2)
    assert (first.total, len(first.deployments), len(second.deployments)) == (3, 2, 1)
    assert [d.deployed_model for d in client.iter_deployments(page_size=2)] == [
        "qwen3-32b-a",
        "qwen3-32b-b",
        "qwen3-32b-c",
    ]


def test_config_from_settings(tmp_path: Path) -> None:
    from modeldeck.settings import Settings

    settings = Settings(data_dir=tmp_path, sandbox={"deploy_delay_seconds": 5, "clock_speed": 2})
    config = SandboxConfig.from_settings(settings)
    assert config.db_path == tmp_path / "sandbox.db"
    assert (config.deploy_delay_seconds, config.clock_speed) == (5, 2)
    assert config.member_for("sk-sandbox") == "sandbox" and config.member_for("nope") is None
    assert "sk-sandbox" not in repr(config)


def test_reservation_prepaid_expiry_suspends_then_releases_the_instance(
    make_sandbox: MakeSandbox,
) -> None:
    """Reservations: an expired prepaid instance is SUSPENDED 2 h after expiry (renewable, not
    scalable) and released 14 h later; the ModelCode is then STOPPED, waiting to be deleted."""
    sb = make_sandbox(start_time=datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING))
    body = {
        **PTU_RESERVATION_BODY,
        "charge_type": "pre_paid",
        "pre_paid_info": {"duration": 1, "auto_renewal": False},
    }
    created = ok(sb, "POST", "/deployments", json=body)
    code = created["deployed_model"]
    assert created["pre_paid_gmt_expired"] == "2026-03-01T23:59:59"
    expiry = datetime(2026, 3, 1, 23, 59, 59, tzinfo=BEIJING).timestamp()

    def jump_to(moment: float) -> dict[str, object]:
        sb.sandbox.advance(moment - sb.sandbox.clock.now())
        return dict(ok(sb, "GET", f"/deployments/{code}"))

    assert jump_to(expiry + 2 * HOUR - 5)["status"] == "RUNNING"
    assert jump_to(expiry + 2 * HOUR + 1)["status"] == "SUSPENDED"
    (inst,) = ok(sb, "GET", f"/deployments/{code}/capacity-instances")["records"]
    assert (inst["status"], inst["can_scale"], inst["can_renew"]) == ("SUSPENDED", False, True)
    assert jump_to(expiry + 16 * HOUR + 1)["status"] == "STOPPED"
    listed = ok(sb, "GET", f"/deployments/{code}/capacity-instances?include_deleted=true")
    assert [i["deleted"] for i in listed["records"]] == [True]
    assert ok(sb, "DELETE", f"/deployments/{code}")["status"] == "DELETING"


def test_a_restarted_sandbox_keeps_reservations_and_operations(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with running_sandbox(db_path=db, operation_delay_seconds=3600.0) as first:
        created = ok(first, "POST", "/deployments", json=PTU_RESERVATION_BODY)
        code = created["deployed_model"]
        first.sandbox.advance(60)
        (inst,) = ok(first, "GET", f"/deployments/{code}/capacity-instances")["records"]
        target = {"ptu_capacity": {"input_tpm": 20, "output_tpm": 2}}
        path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/scale"
        op = ok(first, "PUT", path, json=target, headers={"x-acs-req-uuid": "restart-1"})
    with running_sandbox(db_path=db, operation_delay_seconds=3600.0) as second:
        again = ok(second, "GET", f"/deployments/{code}/capacity-operations/{op['operation_id']}")
        assert again["operation_status"] == "PROCESSING"
        # The request id survived too: the same write answers the same operation.
        same = ok(second, "PUT", path, json=target, headers={"x-acs-req-uuid": "restart-1"})
        assert same["operation_id"] == op["operation_id"]
        second.sandbox.advance(3601)
        done = ok(second, "GET", f"/deployments/{code}/capacity-operations/{op['operation_id']}")
        assert done["operation_status"] == "SUCCEEDED"
        # New ids continue the sequence.
        assert int(created["operation_id"]) < int(op["operation_id"])
