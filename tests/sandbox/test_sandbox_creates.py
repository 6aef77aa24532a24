"""Creates behave like the service: no idempotency on a first create, a generated suffix when none
is sent, 409 on a repeated suffix, and faults that create and then lose the answer."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MU_BODY, PTU_RESERVATION_BODY, MakeSandbox, call, ok, refused

CREATE = {"method": "POST", "path": "/api/v1/deployments"}


def codes(sb: RunningSandbox) -> list[str]:
    return [d["deployed_model"] for d in ok(sb, "GET", "/deployments")["deployments"]]


def test_a_repeated_create_with_the_same_request_id_is_a_new_deployment(sb: RunningSandbox) -> None:
    headers = {"x-acs-req-uuid": "7f1c2a9e-0000-4000-8000-000000000001"}
    first = ok(sb, "POST", "/deployments", json=MU_BODY, headers=headers)
    second = ok(sb, "POST", "/deployments", json=MU_BODY, headers=headers)
    assert first["deployed_model"] != second["deployed_model"]
    assert sorted(codes(sb)) == sorted([first["deployed_model"], second["deployed_model"]])
    assert sb.sandbox.created_count("qwen3-32b") == 2  # two billed deployments, as on the service


def test_without_a_suffix_the_service_generates_one(sb: RunningSandbox) -> None:
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    assert re.fullmatch(r"qwen3-32b-[a-z0-9]{6}", code)


def test_a_repeated_suffix_is_409_and_creates_nothing(sb: RunningSandbox) -> None:
    body = {**PTU_RESERVATION_BODY, "suffix": "r42"}
    ok(sb, "POST", "/deployments", json=body)
    message = refused(sb, "POST", "/deployments", 409, "Conflict", json=body)
    assert message == (
        "Deployed model qwen3-max-2025-09-23-r42 already exists, please specify a suffix."
    )
    assert sb.sandbox.created_count() == 1


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(kind="error", status=500, times=1, after_handler=True, **CREATE),
        FaultRule(kind="error", status=503, times=1, after_handler=True, **CREATE),
        FaultRule(kind="drop", times=1, after_handler=True, **CREATE),
    ],
    ids=["created-then-500", "created-then-503", "created-then-dropped"],
)
def test_faults_that_create_and_then_lose_the_answer(
    make_sandbox: MakeSandbox, rule: FaultRule
) -> None:
    sb = make_sandbox(faults=[rule])
    body = {**MU_BODY, "suffix": "lost1"}
    try:
        answer = call(sb, "POST", "/deployments", json=body)
    except httpx.TransportError:
        answer = None
    assert answer is None or answer.status_code >= 500
    # The service did create it: a look-up finds it, and a blind retry is a 409.
    assert codes(sb) == ["qwen3-32b-lost1"]
    refused(sb, "POST", "/deployments", 409, "Conflict", json=body)
    assert sb.sandbox.created_count() == 1


def test_a_fault_that_creates_and_then_times_out(make_sandbox: MakeSandbox) -> None:
    rule = FaultRule(kind="latency", latency_seconds=30, times=1, after_handler=True, **CREATE)
    sb = make_sandbox(faults=[rule])
    with pytest.raises(httpx.TimeoutException):
        call(sb, "POST", "/deployments", json={**MU_BODY, "suffix": "slow"}, timeout=0.5)
    assert codes(sb) == ["qwen3-32b-slow"]


def test_a_fault_before_the_handler_creates_nothing(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="error", status=500, times=1, **CREATE)])
    assert call(sb, "POST", "/deployments", json=MU_BODY).status_code == 500
    assert codes(sb) == []


def test_an_mu_create_as_the_official_sdk_sends_it(sb: RunningSandbox) -> None:
    """`dashscope.Deployments.call(..., template_id="MU1")`: template_id is the deploy spec and
    no billing_method is sent (pay-as-you-go)."""
    from dashscope import Deployments

    sdk_create: Any = Deployments.call  # the SDK's stubs disagree with its own signature
    created = sdk_create(
        model="qwen3-32b",
        capacity=1,
        suffix="sdk2",
        plan="mu",
        template_id="MU1",
        api_key="sk-sandbox",
        base_address=sb.base_url,
    )
    assert getattr(created, "status_code", None) == 200, created
    view = ok(sb, "GET", "/deployments/qwen3-32b-sdk2")
    assert (view["model_unit_spec"], view["charge_type"]) == ("MU1", "post_paid")
    body = {**MU_BODY, "deploy_spec": None, "template_id": "MU9"}
    assert "Invalid deploy_spec (MU9)" in refused(
        sb, "POST", "/deployments", 400, "InvalidParameter", json=body
    )
