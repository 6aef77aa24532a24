"""Every documented error, with its HTTP status, code and text, through the client's hierarchy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modeldeck.errors import NotFound, PermissionDenied, UserError
from modeldeck.provider import (
    AuthenticationError,
    InvalidParameterError,
    ModelStudioClient,
    ProviderError,
    ProviderNotFound,
    ProviderPermissionError,
)
from modeldeck.sandbox import SandboxMember
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MU_BODY, PTU_BODY, MakeSandbox, ok, refused, settle

CAPACITY_TEXT = (
    "Invalid capacity ({}), capacity must be larger than or equal to 0 and multiples of 1 and "
    "less than 1000!"
)


@pytest.mark.parametrize("capacity", [1000, -1, "two", 2.5])
def test_invalid_capacity_is_400_with_documented_text(
    client: ModelStudioClient, capacity: Any
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        client.create_deployment({**MU_BODY, "capacity": capacity})
    err = info.value
    assert (err.status_code, err.code) == (400, "InvalidParameter")
    assert err.message == CAPACITY_TEXT.format(capacity)
    assert isinstance(err, UserError) and isinstance(err, ProviderError)
    assert err.request_id


def test_scale_to_invalid_capacity_is_400(sb: RunningSandbox) -> None:
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    settle(sb)
    message = refused(
        sb, "PUT", f"/deployments/{code}/scale", 400, "InvalidParameter", json={"capacity": 1200}
    )
    assert message == CAPACITY_TEXT.format(1200)


def test_unknown_model_is_400(client: ModelStudioClient) -> None:
    with pytest.raises(InvalidParameterError) as info:
        client.create_deployment({**MU_BODY, "model_name": "qwen-nope"})
    assert info.value.message == "The model qwen-nope does not exist or is not deployable"


def test_ptu_without_capacity_is_refused(client: ModelStudioClient) -> None:
    body = {k: v for k, v in PTU_BODY.items() if k != "ptu_capacity"}
    with pytest.raises(InvalidParameterError, match="Miss ptu capacity info"):
        client.create_deployment(body)


def test_rate_limits_refused_where_the_seed_says_not_supported(client: ModelStudioClient) -> None:
    with pytest.raises(InvalidParameterError, match="does not support rpm_limit"):
        client.create_deployment({**MU_BODY, "rpm_limit": 10})


def test_missing_deployment_is_404_with_documented_text(client: ModelStudioClient) -> None:
    for call in (
        lambda: client.get_deployment("ghost-1"),
        lambda: client.delete_deployment("ghost-1"),
        lambda: client.scale_deployment("ghost-1", capacity=1),
        lambda: client.update_limits("ghost-1", rpm_limit=5),
    ):
        with pytest.raises(ProviderNotFound) as info:
            call()
        assert info.value.message == "Model: ghost-1 not found!"
        assert (info.value.status_code, info.value.code) == (404, "NotFound")
        assert isinstance(info.value, NotFound)


def test_repeated_suffix_is_409_with_the_documented_text(sb: RunningSandbox) -> None:
    first = ok(sb, "POST", "/deployments", json={**MU_BODY, "suffix": "b"})
    assert first["deployed_model"] == "qwen3-32b-b"
    message = refused(sb, "POST", "/deployments", 409, "Conflict", json={**MU_BODY, "suffix": "b"})
    assert message == "Deployed model qwen3-32b-b already exists, please specify a suffix."
    assert sb.sandbox.created_count("qwen3-32b") == 1


def test_bad_api_key_is_401(sb: RunningSandbox) -> None:
    for key in ("sk-wrong", None):
        with sb.client(api_key=key) as bad, pytest.raises(AuthenticationError) as info:
            bad.list_deployments()
        assert info.value.message == "Invalid API-key provided."
        assert (info.value.status_code, info.value.code) == (401, "InvalidApiKey")


def test_member_without_full_access_gets_the_module_text(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(
        members=[
            SandboxMember(name="ops", api_key="sk-ops"),
            SandboxMember(name="intern", api_key="sk-intern"),
        ],
        full_access=["ops"],
    )
    with sb.client(api_key="sk-intern") as intern:
        for call in (intern.list_deployments, lambda: intern.create_deployment(MU_BODY)):
            with pytest.raises(ProviderPermissionError) as info:
                call()
            assert info.value.message == "Missing permissions for this module"
            assert (info.value.status_code, info.value.code) == (403, "AccessDenied")
            assert isinstance(info.value, PermissionDenied)
    with sb.client(api_key="sk-ops") as ops:
        assert ops.create_deployment(MU_BODY).creator == "ops"


def test_workspace_without_model_privilege_gets_the_seed_text(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(deployable_models=["qwen3-32b"], workspace_id="ws-team")
    with sb.client() as client:
        assert client.create_deployment(MU_BODY).workspace_id == "ws-team"
        with pytest.raises(ProviderPermissionError) as info:
            client.create_deployment(PTU_BODY)
    assert info.value.message == (
        "Workspace ws-team does not have deployment privilege for model qwen3-max-2025-09-23."
    )
    assert (info.value.status_code, info.value.code) == (403, "Workspace.AccessDenied")


def test_scaling_a_pending_deployment_is_a_conflict(sb: RunningSandbox) -> None:
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    message = refused(
        sb, "PUT", f"/deployments/{code}/scale", 409, "Conflict", json={"capacity": 2}
    )
    assert "is PENDING; it can be scaled when it is RUNNING" in message


def test_workspaces_are_separate(sb: RunningSandbox) -> None:
    with sb.client(workspace="ws-a") as a, sb.client(workspace="ws-b") as b:
        code = a.create_deployment(MU_BODY).deployed_model
        assert b.list_deployments().total == 0
        with pytest.raises(ProviderNotFound):
            b.get_deployment(code)
        assert b.create_deployment(MU_BODY).workspace_id == "ws-b"


def test_native_error_envelope_on_the_wire(sb: RunningSandbox) -> None:
    answer = httpx.get(
        f"{sb.base_url}/deployments/ghost", headers={"Authorization": "Bearer sk-sandbox"}
    )
    body = answer.json()
    assert answer.status_code == 404
    assert set(body) == {"request_id", "code", "message"}
    assert body["message"] == "Model: ghost not found!"
    unknown = httpx.get(f"{sb.url}/api/v1/nowhere")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NotFound"


BAD_BODIES: list[Any] = [
    [],
    "text",
    7,
    None,
    {"ptu_capacity": "lots"},
    {"ptu_capacity": {"input_tpm": True, "output_tpm": 1}},
    {"ptu_capacity": {"input_tpm": 1.5, "output_tpm": 1}},
    {"capacity": "two"},
    {"billing_method": ["PRE_PAY"]},
    {"pre_paid_info": "3 days"},
    {"pre_paid_info": {"duration": True}},
    {"order_type": 5, "ptu_capacity": {"input_tpm": 1, "output_tpm": 1}},
    {"instance_id": ["x"], "ptu_capacity": "x"},
]


def test_bad_bodies_on_every_write_are_4xx_never_500(sb: RunningSandbox) -> None:
    from tests.sandbox.sbhelpers import PTU_RESERVATION_BODY, call, ok

    code = ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)["deployed_model"]
    sb.sandbox.advance(60)
    (inst,) = ok(sb, "GET", f"/deployments/{code}/capacity-instances")["records"]
    one = f"/deployments/{code}/capacity-instances/{inst['instance_id']}"
    writes = [
        ("POST", "/deployments"),
        ("PUT", f"/deployments/{code}/scale"),
        ("PUT", f"/deployments/{code}/renew"),
        ("PUT", f"/deployments/{code}/update"),
        ("PUT", f"/deployments/{code}/update-overflowstrategy"),
        ("POST", f"/deployments/{code}/capacity-instances"),
        ("PUT", f"{one}/scale"),
        ("PUT", f"{one}/renew"),
    ]
    for method, path in writes:
        for body in BAD_BODIES:
            answer = call(sb, method, path, json=body)
            assert 400 <= answer.status_code < 500, (method, path, body, answer.text)
            assert set(answer.json()) == {"request_id", "code", "message"}
    raw = call(sb, "POST", "/deployments", content=b"{not json")
    assert raw.status_code == 400
    for query in ("?page_no=0", "?page_size=x", "?page_size=101"):
        listed = call(sb, "GET", f"/deployments/{code}/capacity-instances{query}")
        assert listed.status_code == 400, listed.text
