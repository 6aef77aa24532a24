"""PTU reservations on the sandbox (the default generation): the documented create, capacity
instances, asynchronous operations on the sandbox clock, request ids and every error code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.timeutil import BEIJING
from tests.sandbox.sbhelpers import (
    MU_BODY,
    PREPAID_INFO,
    PTU_RESERVATION_BODY,
    MakeSandbox,
    call,
    ok,
    refused,
    settle,
)

SLOW = {"operation_delay_seconds": 300.0}
PREPAID = {**PTU_RESERVATION_BODY, "charge_type": "pre_paid", "pre_paid_info": PREPAID_INFO}


def create(sb: RunningSandbox, body: dict[str, Any] | None = None) -> str:
    """A RUNNING reservation (its first operation settled); its ModelCode."""
    code = str(ok(sb, "POST", "/deployments", json=body or PTU_RESERVATION_BODY)["deployed_model"])
    settle(sb)
    return code


def instances(sb: RunningSandbox, code: str, query: str = "") -> dict[str, Any]:
    return dict(ok(sb, "GET", f"/deployments/{code}/capacity-instances{query}"))


def operation(sb: RunningSandbox, code: str, op_id: str) -> dict[str, Any]:
    return dict(ok(sb, "GET", f"/deployments/{code}/capacity-operations/{op_id}"))


def test_the_documented_ptu_create_without_capacity(sb: RunningSandbox) -> None:
    created = ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)
    assert "capacity" not in PTU_RESERVATION_BODY
    assert created["status"] == "PENDING" and created["charge_type"] == "post_paid"
    assert created["service_tier"] == "ptu_fast"
    assert created["operation_id"].isdigit() and created["instance_id"]
    # Until the CREATE operation succeeds nothing is in force.
    assert created["ptu_capacity"] == {"input_tpm": 0, "output_tpm": 0}
    code = created["deployed_model"]
    assert operation(sb, code, created["operation_id"])["operation_status"] == "PROCESSING"
    settle(sb)
    op = operation(sb, code, created["operation_id"])
    assert (op["operation_type"], op["operation_status"]) == ("CREATE", "SUCCEEDED")
    assert op["gmt_finished"] is not None and op["current_status"] == "RUNNING"
    view = ok(sb, "GET", f"/deployments/{code}")
    assert view["status"] == "RUNNING"
    assert view["ptu_capacity"] == {"input_tpm": 10, "output_tpm": 1}  # kTPM, as sent


def test_a_prepaid_create_waits_for_billing_and_names_no_instance_yet(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(billing_delay_seconds=60.0)
    created = ok(sb, "POST", "/deployments", json={**PREPAID, "service_tier": "ptu_default"})
    assert created["status"] == "WAIT_PRE_PAID_BILLING_TO_DEPLOYING"
    assert "instance_id" not in created and created["operation_id"]
    assert created["charge_type"] == "pre_paid" and created["service_tier"] == "ptu_default"
    (inst,) = instances(sb, created["deployed_model"])["records"]
    assert inst["status"] == "WAIT_PRE_PAID_BILLING_TO_DEPLOYING"
    assert inst["pre_paid_info"] == PREPAID_INFO
    settle(sb, 120)
    assert ok(sb, "GET", f"/deployments/{created['deployed_model']}")["status"] == "RUNNING"


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"charge_type": None}, "charge_type"),
        ({"charge_type": "monthly"}, "Invalid charge_type (monthly)"),
        ({"ptu_capacity": None}, "Miss ptu capacity info"),
        ({"service_tier": "ptu_default"}, "ptu_default is only supported for charge_type pre_paid"),
        ({"service_tier": "gold"}, "Invalid service_tier (gold)"),
        ({"enable_thinking": True}, "enable_thinking is only supported for plan mu"),
        ({"pre_paid_info": PREPAID_INFO}, "pre_paid_info is only supported"),
        (
            {"ptu_capacity": {"input_tpm": 10, "output_tpm": 1, "thinking_output_tpm": 1}},
            "thinking_output_tpm is not supported",
        ),
        ({"ptu_capacity": {"input_tpm": -1, "output_tpm": 1}}, "input_tpm (-1)"),
    ],
)
def test_ptu_create_refusals(sb: RunningSandbox, change: dict[str, Any], text: str) -> None:
    body = {k: v for k, v in {**PTU_RESERVATION_BODY, **change}.items() if v is not None}
    assert text in refused(sb, "POST", "/deployments", 400, "InvalidParameter", json=body)
    assert sb.sandbox.created_count() == 0


def test_prepaid_info_rules(sb: RunningSandbox) -> None:
    for info, text in (
        (None, "Miss pre paid info"),
        ({"duration": 0}, "duration (0)"),
        ({"duration": 3, "auto_renewal": True}, "auto_renewal_duration"),
    ):
        body = {**PREPAID, "pre_paid_info": info}
        assert text in refused(sb, "POST", "/deployments", 400, "InvalidParameter", json=body)
    info = {"duration": 3, "auto_renewal": True, "auto_renewal_duration": 7}
    created = ok(sb, "POST", "/deployments", json={**PREPAID, "pre_paid_info": info})
    assert created["pre_paid_info"]["auto_renewal_cycle"] == "Day"


def test_zero_ptu_capacity_is_accepted(sb: RunningSandbox) -> None:
    body = {**PTU_RESERVATION_BODY, "ptu_capacity": {"input_tpm": 0, "output_tpm": 0}}
    assert ok(sb, "POST", "/deployments", json=body)["status"] == "PENDING"


def test_mu_pre_pay_is_refused_unless_configured(make_sandbox: MakeSandbox) -> None:
    body = {**MU_BODY, "billing_method": "PRE_PAY", "pre_paid_info": {"duration": 30}}
    sb = make_sandbox()
    message = refused(sb, "POST", "/deployments", 400, "InvalidParameter", json=body)
    assert message == "Invalid billing_method (PRE_PAY), billing_method must be POST_PAY!"
    accepting = make_sandbox(mu_prepay_accepted=True)
    assert ok(accepting, "POST", "/deployments", json=body)["charge_type"] == "pre_paid"


def test_instances_add_list_and_filters(sb: RunningSandbox) -> None:
    code = create(sb)
    message = refused(
        sb,
        "POST",
        f"/deployments/{code}/capacity-instances",
        400,
        "POSTPAID_INSTANCE_ALREADY_EXISTS",
        json={"billing_method": "POST_PAY", "ptu_capacity": {"input_tpm": 5, "output_tpm": 1}},
    )
    assert "already has a post-paid capacity instance" in message
    added = ok(
        sb,
        "POST",
        f"/deployments/{code}/capacity-instances",
        json={
            "billing_method": "PRE_PAY",
            "ptu_capacity": {"input_tpm": 20, "output_tpm": 2},
            "pre_paid_info": PREPAID_INFO,
        },
    )
    assert (added["operation_type"], added["operation_status"]) == ("CREATE", "PROCESSING")
    settle(sb)
    page = instances(sb, code, "?page_no=1&page_size=1")
    assert set(page) == {"records", "items", "page", "itemsPerPage", "pageCount"}
    assert (page["items"], page["page"], page["itemsPerPage"], page["pageCount"]) == (2, 1, 1, 2)
    prepaid = instances(sb, code, "?charge_types=pre_paid")["records"]
    assert [i["instance_id"] for i in prepaid] == [added["instance_id"]]
    assert prepaid[0]["effective_capacity"] == {"input_tpm": 20, "output_tpm": 2}
    assert prepaid[0]["gmt_expired"] and prepaid[0]["can_renew"] and not prepaid[0]["can_delete"]
    assert instances(sb, code, "?statuses=SCALING")["items"] == 0
    one = ok(sb, "GET", f"/deployments/{code}/capacity-instances/{added['instance_id']}")
    assert one["charge_type"] == "pre_paid" and one["status"] == "RUNNING"
    # The code's capacity in force is the sum of its instances.
    assert ok(sb, "GET", f"/deployments/{code}")["ptu_capacity"] == {
        "input_tpm": 30,
        "output_tpm": 3,
    }


def add_prepaid(sb: RunningSandbox, code: str) -> str:
    body = {
        "billing_method": "PRE_PAY",
        "ptu_capacity": {"input_tpm": 5, "output_tpm": 1},
        "pre_paid_info": PREPAID_INFO,
    }
    added = ok(sb, "POST", f"/deployments/{code}/capacity-instances", json=body)
    settle(sb)
    return str(added["instance_id"])


def test_code_level_scale_needs_an_instance_when_there_are_several(sb: RunningSandbox) -> None:
    code = create(sb)
    target = {"ptu_capacity": {"input_tpm": 20, "output_tpm": 2}}
    one = ok(sb, "PUT", f"/deployments/{code}/scale", json=target)  # a single instance: fine
    assert one["operation_status"] == "PROCESSING" and one["instance_id"]
    settle(sb)
    prepaid = add_prepaid(sb, code)
    message = refused(
        sb, "PUT", f"/deployments/{code}/scale", 400, "CAPACITY_INSTANCE_REQUIRED", json=target
    )
    assert prepaid in message
    scaled = ok(sb, "PUT", f"/deployments/{code}/scale", json={**target, "instance_id": prepaid})
    assert scaled["instance_id"] == prepaid


def test_a_scale_is_an_operation_and_the_old_capacity_holds_until_it_succeeds(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(**SLOW)
    code = create(sb)
    (inst,) = instances(sb, code)["records"]
    path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/scale"
    body = {"ptu_capacity": {"input_tpm": 40, "output_tpm": 4}, "order_type": "UPGRADE"}
    op = ok(sb, "PUT", path, json=body)
    assert (op["operation_type"], op["operation_status"]) == ("SCALE", "PROCESSING")
    now = instances(sb, code)["records"][0]
    assert now["status"] == "SCALING" and not now["can_scale"]
    assert now["effective_capacity"] == {"input_tpm": 10, "output_tpm": 1}
    assert now["target_capacity"] == {"input_tpm": 40, "output_tpm": 4}
    view = ok(sb, "GET", f"/deployments/{code}")
    assert view["status"] == "UPDATING"
    assert view["ptu_capacity"] == {"input_tpm": 10, "output_tpm": 1}
    # Changes on one code run in order.
    other = {"ptu_capacity": {"input_tpm": 30, "output_tpm": 3}}
    conflict = call(sb, "PUT", path, json=other)
    assert (conflict.status_code, conflict.json()["code"]) == (
        409,
        "CAPACITY_INSTANCE_OPERATION_CONFLICT",
    )
    settle(sb, 600)
    done = operation(sb, code, op["operation_id"])
    assert done["operation_status"] == "SUCCEEDED" and done["error_code"] is None
    assert instances(sb, code)["records"][0]["effective_capacity"] == body["ptu_capacity"]
    assert ok(sb, "GET", f"/deployments/{code}")["ptu_capacity"] == body["ptu_capacity"]


def test_order_type_must_match_the_change(sb: RunningSandbox) -> None:
    code = create(sb)
    (inst,) = instances(sb, code)["records"]
    path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/scale"
    body = {"ptu_capacity": {"input_tpm": 40, "output_tpm": 4}, "order_type": "DOWNGRADE"}
    assert "does not match" in refused(sb, "PUT", path, 400, "InvalidParameter", json=body)


def test_request_ids_on_instance_writes(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(**SLOW)
    code = create(sb)
    (inst,) = instances(sb, code)["records"]
    path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/scale"
    body = {"ptu_capacity": {"input_tpm": 20, "output_tpm": 2}}
    headers = {"x-acs-req-uuid": "r-1", "X-DashScope-RequestId": "r-1"}
    first = ok(sb, "PUT", path, json=body, headers=headers)
    again = ok(sb, "PUT", path, json=body, headers=headers)  # reuses, no conflict
    assert again["operation_id"] == first["operation_id"] and first["request_id"] == "r-1"
    other = {"ptu_capacity": {"input_tpm": 30, "output_tpm": 2}}
    message = refused(sb, "PUT", path, 409, "IDEMPOTENCY_KEY_CONFLICT", json=other, headers=headers)
    assert "r-1" in message


def test_an_injected_failure_answers_200_and_the_operation_ends_failed(
    make_sandbox: MakeSandbox,
) -> None:
    rule = FaultRule(kind="operation_failed", path="/api/v1/deployments/", method="PUT")
    sb = make_sandbox(faults=[rule])
    code = create(sb)
    answer = call(sb, "PUT", f"/deployments/{code}/scale", json={"ptu_capacity": {"input_tpm": 50}})
    assert answer.status_code == 400  # a bad body is refused before any operation
    scale = {"ptu_capacity": {"input_tpm": 50, "output_tpm": 5}}
    started = ok(sb, "PUT", f"/deployments/{code}/scale", json=scale)
    assert started["operation_status"] == "PROCESSING"  # HTTP 200
    settle(sb)
    op = operation(sb, code, started["operation_id"])
    assert (op["operation_status"], op["error_code"]) == ("FAILED", "InternalError")
    assert op["error_message"]
    (inst,) = instances(sb, code)["records"]
    assert inst["effective_capacity"] == {"input_tpm": 10, "output_tpm": 1}
    assert inst["fail_reason"] and inst["status"] == "RUNNING"


def test_release_and_delete_prechecks(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(**SLOW)
    code = create(sb)
    settle(sb, 600)
    prepaid = add_prepaid(sb, code)
    settle(sb, 600)
    (post,) = instances(sb, code, "?charge_types=post_paid")["records"]
    base = f"/deployments/{code}/capacity-instances"
    message = refused(sb, "DELETE", f"{base}/{prepaid}", 400, "PREPAID_UNSUBSCRIBE_REQUIRED")
    assert "unsubscribe it in the console" in message
    message = refused(
        sb, "DELETE", f"/deployments/{code}", 400, "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED"
    )
    assert post["instance_id"] in message and prepaid in message
    release = ok(sb, "DELETE", f"{base}/{post['instance_id']}?reason=done")
    assert (release["operation_type"], release["operation_status"]) == ("DELETE", "PROCESSING")
    refused(sb, "DELETE", f"/deployments/{code}", 409, "CAPACITY_INSTANCE_OPERATION_CONFLICT")
    settle(sb, 600)
    released = ok(sb, "GET", f"{base}/{post['instance_id']}")
    assert released["deleted"] is True and released["gmt_deleted"]
    assert instances(sb, code)["items"] == 1
    assert instances(sb, code, "?include_deleted=true")["items"] == 2


def test_a_code_whose_instances_are_all_released_is_stopped_and_deletable(
    sb: RunningSandbox,
) -> None:
    code = create(sb)
    (inst,) = instances(sb, code)["records"]
    ok(sb, "DELETE", f"/deployments/{code}/capacity-instances/{inst['instance_id']}")
    settle(sb)
    assert ok(sb, "GET", f"/deployments/{code}")["status"] == "STOPPED"
    assert ok(sb, "DELETE", f"/deployments/{code}")["status"] == "DELETING"
    message = refused(
        sb, "GET", f"/deployments/{code}/capacity-instances", 400, "MODEL_CODE_DELETED"
    )
    assert code in message
    settle(sb)
    refused(sb, "GET", f"/deployments/{code}/capacity-instances", 404, "MODEL_CODE_NOT_FOUND")
    assert call(sb, "GET", f"/deployments/{code}").status_code == 404


def test_renew_is_for_prepaid_instances(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING))
    code = create(sb, PREPAID)
    (inst,) = instances(sb, code)["records"]
    assert inst["gmt_expired"] == "2026-03-03T23:59:59"
    path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/renew"
    with_order = {"pre_paid_info": {"duration": 2}, "order_type": "UPGRADE"}
    refused(sb, "PUT", path, 400, "InvalidParameter", json=with_order)
    op = ok(sb, "PUT", path, json={"pre_paid_info": {"duration": 2}})
    assert op["operation_type"] == "RENEW"
    settle(sb)
    assert operation(sb, code, op["operation_id"])["operation_status"] == "SUCCEEDED"
    assert instances(sb, code)["records"][0]["gmt_expired"] == "2026-03-05T23:59:59"
    # The code-level renew addresses the single instance.
    renewed = ok(sb, "PUT", f"/deployments/{code}/renew", json={"pre_paid_info": {"duration": 1}})
    assert renewed["instance_id"] == inst["instance_id"]
    post = create(sb)
    (post_inst,) = instances(sb, post)["records"]
    refused(
        sb,
        "PUT",
        f"/deployments/{post}/capacity-instances/{post_inst['instance_id']}/renew",
        400,
        "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
        json={"pre_paid_info": {"duration": 1}},
    )


def test_not_found_and_unsupported_codes(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(max_capacity_instances=2, capacity_slot_limit_ktpm=100)
    code = create(sb)
    refused(sb, "GET", "/deployments/ghost-1/capacity-instances", 404, "MODEL_CODE_NOT_FOUND")
    refused(
        sb,
        "GET",
        f"/deployments/{code}/capacity-instances/ci-9",
        404,
        "CAPACITY_INSTANCE_NOT_FOUND",
    )
    refused(
        sb,
        "GET",
        f"/deployments/{code}/capacity-operations/999",
        404,
        "CAPACITY_OPERATION_NOT_FOUND",
    )
    refused(sb, "GET", f"/deployments/{code}/capacity-operations/abc", 500, "InternalError")
    mu = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    refused(
        sb,
        "GET",
        f"/deployments/{mu}/capacity-instances",
        400,
        "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
    )
    big = {
        "billing_method": "PRE_PAY",
        "ptu_capacity": {"input_tpm": 95, "output_tpm": 1},
        "pre_paid_info": PREPAID_INFO,
    }
    base = f"/deployments/{code}/capacity-instances"
    refused(sb, "POST", base, 400, "CAPACITY_SLOT_LIMIT_EXCEEDED", json=big)
    add_prepaid(sb, code)
    refused(sb, "POST", base, 400, "TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED", json=big)


def test_admission_follows_the_capacity_in_force_in_tokens_per_minute(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(start_time=datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING), ptu_overflow=False)
    code = str(ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)["deployed_model"])
    sb.sandbox.advance(5)  # still inside the first minute, the CREATE has succeeded

    def chat(max_tokens: int) -> int:
        body = {
            "model": code,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": max_tokens,
        }
        return sb.http.post("/compatible-mode/v1/chat/completions", json=body).status_code

    assert chat(999) == 200  # 1 kTPM out = 1,000 output tokens per minute
    assert chat(2) == 429


def test_a_reservation_create_that_fails_ends_failed_with_a_reason(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(failing_models=["qwen3-max-2025-09-23"])
    created = ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)
    settle(sb)
    code = created["deployed_model"]
    op = operation(sb, code, created["operation_id"])
    assert (op["operation_status"], op["error_code"]) == ("FAILED", "InternalError")
    assert "refunded" in op["error_message"]
    assert ok(sb, "GET", f"/deployments/{code}")["status"] == "FAILED"
    (inst,) = instances(sb, code)["records"]
    assert inst["status"] == "FAILED" and inst["can_delete"]
    assert inst["effective_capacity"] == {"input_tpm": 0, "output_tpm": 0}


def test_an_injected_immediate_failure_is_failed_in_the_200_answer(
    make_sandbox: MakeSandbox,
) -> None:
    rule = FaultRule(
        kind="operation_failed",
        method="POST",
        path="/api/v1/deployments/",  # instance writes, not the create itself
        code="BILLING_SERVICE_UNAVAILABLE",
        immediate=True,
    )
    sb = make_sandbox(faults=[rule])
    code = create(sb)
    answer = call(
        sb,
        "POST",
        f"/deployments/{code}/capacity-instances",
        json={
            "billing_method": "PRE_PAY",
            "ptu_capacity": {"input_tpm": 5, "output_tpm": 1},
            "pre_paid_info": PREPAID_INFO,
        },
    )
    assert answer.status_code == 200
    op = answer.json()["output"]
    assert (op["operation_status"], op["error_code"]) == ("FAILED", "BILLING_SERVICE_UNAVAILABLE")
    assert ok(sb, "GET", f"/deployments/{code}")["ptu_capacity"] == {
        "input_tpm": 10,
        "output_tpm": 1,
    }


def test_a_prepaid_upgrade_waits_for_billing_before_scaling(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(billing_delay_seconds=100.0, operation_delay_seconds=100.0)
    code = create(sb, PREPAID)
    settle(sb, 300)
    (inst,) = instances(sb, code)["records"]
    path = f"/deployments/{code}/capacity-instances/{inst['instance_id']}/scale"
    ok(sb, "PUT", path, json={"ptu_capacity": {"input_tpm": 20, "output_tpm": 2}})
    assert instances(sb, code)["records"][0]["status"] == "WAIT_PRE_PAID_BILLING_TO_SCALING"
    settle(sb, 150)
    assert instances(sb, code)["records"][0]["status"] == "SCALING"
    settle(sb, 100)
    assert instances(sb, code)["records"][0]["status"] == "RUNNING"
