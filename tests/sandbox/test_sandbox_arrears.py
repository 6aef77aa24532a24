"""The seed's arrears rule on the sandbox: an overdue account's pay-as-you-go deployments go
ARREARS_DOWN, are kept (and billed) for 24 hours on the sandbox clock, then released; paying in
time brings them back through ARREARS_RECOVERING."""

from __future__ import annotations

from typing import Any

from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import (
    MU_BODY,
    PREPAID_INFO,
    PTU_RESERVATION_BODY,
    MakeSandbox,
    call,
    deploy,
    ok,
    refused,
)

HOUR = 3600.0
PREPAID = {**PTU_RESERVATION_BODY, "charge_type": "pre_paid", "pre_paid_info": PREPAID_INFO}


def arrears(sb: RunningSandbox, overdue: bool) -> dict[str, Any]:
    answer = sb.http.put("/_sandbox/arrears", json={"overdue": overdue})
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["output"])


def status(sb: RunningSandbox, code: str) -> str:
    return str(ok(sb, "GET", f"/deployments/{code}")["status"])


def test_overdue_pay_as_you_go_is_kept_24_hours_then_released(sb: RunningSandbox) -> None:
    hourly = deploy(sb, MU_BODY)
    ptu_hourly = deploy(sb, PTU_RESERVATION_BODY)
    upfront = deploy(sb, PREPAID)
    marked = arrears(sb, True)
    assert marked["overdue"] is True
    assert sorted(marked["deployments"]) == sorted([hourly, ptu_hourly])
    assert status(sb, hourly) == status(sb, ptu_hourly) == "ARREARS_DOWN"
    assert status(sb, upfront) == "RUNNING"  # prepaid is not pay-as-you-go
    chat = sb.http.post(
        "/compatible-mode/v1/chat/completions",
        json={"model": hourly, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert (chat.status_code, chat.json()["error"]["code"]) == (400, "Arrearage")
    message = refused(sb, "POST", "/deployments", 400, "Arrearage", json=MU_BODY)
    assert message == "Access denied, please make sure your account is in good standing."
    sb.sandbox.advance(24 * HOUR - 5)
    assert status(sb, hourly) == "ARREARS_DOWN"
    sb.sandbox.advance(10)
    assert call(sb, "GET", f"/deployments/{hourly}").status_code == 404
    assert call(sb, "GET", f"/deployments/{ptu_hourly}").status_code == 404
    assert [d["deployed_model"] for d in ok(sb, "GET", "/deployments")["deployments"]] == [upfront]


def test_paying_in_time_recovers(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(deploy_delay_seconds=60)
    code = str(ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"])
    sb.sandbox.advance(61)
    arrears(sb, True)
    sb.sandbox.advance(10 * HOUR)
    paid = arrears(sb, False)
    assert paid["overdue"] is False and paid["deployments"] == [code]
    assert status(sb, code) == "ARREARS_RECOVERING"
    sb.sandbox.advance(61)
    assert status(sb, code) == "RUNNING"
    sb.sandbox.advance(48 * HOUR)  # no longer overdue: never released
    assert status(sb, code) == "RUNNING"
    assert ok(sb, "POST", "/deployments", json=MU_BODY)["status"] == "PENDING"


def test_the_arrears_control_wants_a_boolean(sb: RunningSandbox) -> None:
    assert sb.http.put("/_sandbox/arrears", json={"overdue": "yes"}).status_code == 400
    assert sb.http.get("/_sandbox/state").json()["output"]["overdue"] is False
    arrears(sb, True)
    assert sb.http.get("/_sandbox/state").json()["output"]["overdue"] is True


def test_the_test_harness_controls_arrears_and_the_clock(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    assert sb.set_arrears(True)["deployments"] == [code]
    sb.advance(24 * HOUR + 1)
    assert call(sb, "GET", f"/deployments/{code}").status_code == 404
    assert sb.set_arrears(False)["overdue"] is False
