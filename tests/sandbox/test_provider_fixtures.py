"""The client against recorded responses shaped like the spec's documented examples.

The fixtures are served through ``httpx.MockTransport`` (the one allowed transport stub); the
same fixtures are then checked against the sandbox, so the emulator and the documentation agree.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from modeldeck.errors import ValidationFailed
from modeldeck.provider import (
    ArrearageError,
    AuthenticationError,
    InvalidParameterError,
    ModelStudioClient,
    ProviderConflict,
    ProviderError,
    ProviderNotFound,
    ProviderPermissionError,
    ServerError,
    ThrottlingError,
    derive_suffix,
)
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.timeutil import BEIJING
from tests.sandbox.sbhelpers import MU_BODY, PTU_BODY

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://dashscope.aliyuncs.com/api/v1"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


class Recorded:
    """Serves fixture files in order and keeps every request the client sent."""

    def __init__(self, *names: str) -> None:
        self.queue = [load(n) for n in names]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        fixture = self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]
        expected = fixture["request"]
        assert request.method == expected["method"]
        path, _, query = expected["path"].partition("?")
        assert request.url.path == path
        for pair in filter(None, query.split("&")):
            key, _, value = pair.partition("=")
            assert request.url.params.get(key) == value
        return httpx.Response(
            fixture["status"], json=fixture["body"], headers=fixture.get("headers", {})
        )

    def client(self, **kwargs: Any) -> ModelStudioClient:
        """A client of the generation these fixtures come from (the older pages: legacy, TPM)."""
        kwargs.setdefault("backoff_base", 0.001)
        kwargs.setdefault("api_generation", "legacy")
        return ModelStudioClient(BASE, "sk-recorded", transport=httpx.MockTransport(self), **kwargs)


def test_create_ptu_sends_the_documented_request() -> None:
    recorded = Recorded("create_ptu.json")
    with recorded.client(workspace="llm-a1b2c3d4e5f6") as client:
        info = client.create_deployment(PTU_BODY)
    sent = recorded.requests[0]
    assert sent.headers["authorization"] == "Bearer sk-recorded"
    assert sent.headers["x-dashscope-workspace"] == "llm-a1b2c3d4e5f6"
    assert "x-acs-req-uuid" not in sent.headers, "a first create carries no request id"
    assert "x-dashscope-requestid" not in sent.headers
    sent_body = json.loads(sent.content)
    suffix = sent_body.pop("suffix")
    assert len(suffix) == 8 and suffix.isalnum() and suffix == suffix.lower()
    assert sent_body == PTU_BODY
    assert info.deployed_model == "qwen-plus-2025-12-01-b6d61c71"
    assert info.status == "PENDING" and info.plan == "ptu"
    assert info.ptu_capacity is not None and info.ptu_capacity.output_tpm == 1000
    assert info.request_id == "5d2a1c52-8d2e-9a44-b0f3-0f6c1e2d3a41"
    assert info.gmt_create == datetime(2025, 6, 17, 11, 0, 38, tzinfo=BEIJING)
    assert info.gmt_create is not None and info.gmt_create.utcoffset() == timedelta(hours=8)


def test_create_mu_and_the_given_idempotency_key() -> None:
    recorded = Recorded("create_mu.json")
    with recorded.client() as client:
        info = client.create_deployment(MU_BODY, idempotency_key="req-1")
    assert "x-acs-req-uuid" not in recorded.requests[0].headers
    assert json.loads(recorded.requests[0].content)["suffix"] == derive_suffix("req-1")
    assert "x-dashscope-workspace" not in recorded.requests[0].headers
    assert (info.model_unit_spec, info.capacity, info.enable_thinking) == ("MU1", 2, False)


def test_upfront_fields_are_typed_and_aware() -> None:
    with Recorded("get_running_upfront.json").client() as client:
        info = client.get_deployment("qwen-plus-2025-12-01-b6d61c71")
    assert info.charge_type == "pre_paid" and info.overflow_strategy == "enable"
    assert info.pre_paid_info is not None and info.pre_paid_info.duration == 7
    assert info.pre_paid_gmt_expired == datetime(2025, 6, 23, 23, 59, 59, tzinfo=BEIJING)


def test_list_pages_and_iteration() -> None:
    recorded = Recorded("list_page1.json", "list_page2.json")
    with recorded.client() as client:
        codes = [d.deployed_model for d in client.iter_deployments(page_size=2)]
    assert codes == ["qwen-plus-2025-12-01-b6d61c71", "qwen3-32b-team1", "deepseek-v3.2-ab12"]
    assert [r.url.params["page_no"] for r in recorded.requests] == ["1", "2"]
    assert all(r.url.params["page_size"] == "2" for r in recorded.requests)


def test_scale_update_delete() -> None:
    recorded = Recorded("scale_updating.json", "update_limits.json", "delete_deleting.json")
    with recorded.client() as client:
        scaled = client.scale_deployment("qwen3-32b-team1", capacity=4)
        limited = client.update_limits("qwen3-32b-team1", rpm_limit=500, tpm_limit=100000)
        deleted = client.delete_deployment("qwen3-32b-team1")
    bodies = [json.loads(r.content) if r.content else None for r in recorded.requests]
    assert bodies == [{"capacity": 4}, {"rpm_limit": 500, "tpm_limit": 100000}, None]
    assert (scaled.status, scaled.capacity, scaled.ready_capacity) == ("UPDATING", 4, 2)
    assert (limited.rpm_limit, limited.tpm_limit) == (500, 100000)
    assert deleted.status == "DELETING"


def test_unknown_status_and_fields_are_kept() -> None:
    with Recorded("get_unknown_status.json").client() as client:
        info = client.get_deployment("qwen3-32b-new")
    assert info.status == "HIBERNATING" and info.known_status is None
    assert info.status_label == "HIBERNATING (unknown status)"
    assert info.model_extra == {"ptu_service_tier": "gold", "future_flag": True}
    assert info.model_dump()["future_flag"] is True


def test_deployable_models_expose_base_capacity() -> None:
    with Recorded("deployable_models.json").client() as client:
        page = client.list_deployable_models(model_source="base")
    by_name = {m.model_name: m for m in page.models}
    assert by_name["qwen3-32b"].base_capacity == 1
    assert by_name["qwen-plus-2025-12-01"].base_capacity is None
    assert by_name["qwen-plus-2025-12-01"].plan("ptu") is not None


ERRORS = [
    ("error_400_capacity.json", InvalidParameterError, 400, "InvalidParameter"),
    ("error_400_arrearage.json", ArrearageError, 400, "Arrearage"),
    ("error_401.json", AuthenticationError, 401, "InvalidApiKey"),
    ("error_403_module.json", ProviderPermissionError, 403, "AccessDenied"),
    ("error_403_workspace.json", ProviderPermissionError, 403, "Workspace.AccessDenied"),
    ("error_404.json", ProviderNotFound, 404, "NotFound"),
    ("error_409.json", ProviderConflict, 409, "Conflict"),
    ("error_429.json", ThrottlingError, 429, "Throttling.RateQuota"),
    ("error_500.json", ServerError, 500, "InternalError"),
    ("error_compat_404.json", ProviderNotFound, 404, "model_not_found"),
]


@pytest.mark.parametrize(("name", "cls", "status", "code"), ERRORS)
def test_documented_errors_map_to_the_hierarchy(
    name: str, cls: type[ProviderError], status: int, code: str
) -> None:
    fixture = load(name)
    recorded = Recorded(name)
    with recorded.client(max_retries=1) as client, pytest.raises(cls) as info:
        if fixture["request"]["method"] == "POST":
            # The mapping itself (a create settles a 409 or a lost answer by a look-up instead).
            client.wire.call("POST", "/deployments", json=MU_BODY, retry=False)
        elif fixture["request"]["path"] == "/api/v1/deployments":
            client.list_deployments()
        else:
            client.get_deployment(fixture["request"]["path"].rsplit("/", 1)[-1])
    err = info.value
    body = fixture["body"].get("error", fixture["body"])
    assert (err.status_code, err.code, err.message) == (status, code, body["message"])
    assert err.request_id == fixture["body"].get("request_id")
    assert body["message"] in str(err) and str(status) in str(err)
    retried = status in (429, 500)
    assert len(recorded.requests) == (2 if retried else 1)


def test_a_429_then_success_is_transparent() -> None:
    recorded = Recorded("error_429.json", "list_page2.json")
    with recorded.client() as client:
        page = client.list_deployments(page_no=2, page_size=2)
    assert page.page_no == 2 and len(recorded.requests) == 2


def test_a_non_json_answer_is_a_clear_error() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    client = ModelStudioClient(BASE, "k", transport=transport, max_retries=0)
    with client, pytest.raises(ServerError, match="Bad gateway"):
        client.list_deployments()
    ok_but_html = httpx.MockTransport(lambda r: httpx.Response(200, text="<html></html>"))
    client = ModelStudioClient(BASE, "k", transport=ok_but_html)
    with client, pytest.raises(ProviderError, match="non-JSON body"):
        client.list_deployments()


# -- the sandbox answers with (at least) every documented field --------------------------------


def _fields(name: str) -> set[str]:
    return set(load(name)["body"]["output"]) - {"rpm_limit", "tpm_limit"}


def test_sandbox_answers_have_the_documented_fields(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    ptu_body = {**PTU_BODY, "charge_type": "post_paid"}
    ptu_body.pop("capacity", None)
    ptu = client.create_deployment(ptu_body).model_dump()
    mu_info = client.create_deployment(MU_BODY)
    mu = mu_info.model_dump()
    assert _fields("create_ptu.json") <= set(ptu)
    assert _fields("create_mu.json") <= set(mu)
    code = mu_info.deployed_model
    sb.wait_for_status(client, code, "RUNNING")
    assert _fields("scale_updating.json") <= set(
        client.scale_deployment(code, capacity=3).model_dump()
    )
    assert _fields("delete_deleting.json") <= set(client.delete_deployment(code).model_dump())
    raw = httpx.get(f"{sb.base_url}/deployments", headers={"Authorization": "Bearer sk-sandbox"})
    assert set(load("list_page1.json")["body"]["output"]) <= set(raw.json()["output"])
    models = client.list_deployable_models()
    assert {m.model_name for m in models.models} >= {"qwen3-32b", "qwen-plus-2025-12-01"}
    assert next(m for m in models.models if m.model_name == "qwen3-32b").base_capacity == 1


def test_iteration_ends_even_if_the_server_ignores_page_no() -> None:
    page = load("list_page1.json")["body"]  # always page 1 of "3", whatever is asked
    asked: list[str] = []

    def same_page(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["page_no"])
        return httpx.Response(200, json=page)

    transport = httpx.MockTransport(same_page)
    with ModelStudioClient(BASE, "k", transport=transport) as client:
        items = list(client.iter_deployments(page_size=2))
    assert asked == ["1", "2"] and len(items) == 4


def test_a_dict_body_may_hold_typed_parts() -> None:
    from modeldeck.provider import PtuCapacity

    recorded = Recorded("create_ptu.json")
    body = {**PTU_BODY, "ptu_capacity": PtuCapacity(input_tpm=10000, output_tpm=1000)}
    with recorded.client() as client:
        client.create_deployment({**body, "suffix": "fixed1"})
    assert json.loads(recorded.requests[0].content) == {**PTU_BODY, "suffix": "fixed1"}


def test_newer_answer_shapes_are_read() -> None:
    """`plan: ptu_v2`, `ptu_capacity.*_tpm_quota`, a `data` envelope, fractional-second Beijing
    times and unknown statuses: read, not raised on (the change was applied)."""
    answer = {
        "request_id": "r-v2",
        "data": {
            "deployed_model": "qwen-plus-2025-12-01-ab12cd34",
            "plan": "ptu_v2",
            "status": "WAIT_PRE_PAID_BILLING_TO_SCALING",
            "overflow_strategy": "disable",
            "ptu_capacity": {"input_tpm_quota": 20, "output_tpm_quota": 2},
            "gmt_modified": "2025-06-17T11:00:38.68",
        },
    }
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=answer))
    with ModelStudioClient(BASE, "k", transport=transport) as client:
        info = client.update_overflow_strategy("qwen-plus-2025-12-01-ab12cd34", enabled=False)
    assert info.is_ptu and info.plan == "ptu_v2"
    assert info.ptu_capacity is not None
    assert info.ptu_capacity.tpm() == {"input_tpm": 20000, "output_tpm": 2000}
    assert info.gmt_modified == datetime(2025, 6, 17, 11, 0, 38, 680000, tzinfo=BEIJING)
    assert info.status == "WAIT_PRE_PAID_BILLING_TO_SCALING"
    assert info.request_id == "r-v2"


def test_a_ptu_capacity_that_is_not_whole_ktpm_is_refused_before_the_call() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    client = ModelStudioClient(BASE, "k", transport=httpx.MockTransport(refuse))
    with client, pytest.raises(ValidationFailed, match="not a whole number of thousands"):
        client.create_deployment(
            {
                "model_name": "m",
                "plan": "ptu",
                "ptu_capacity": {"input_tpm": 1500, "output_tpm": 1000},
            }
        )
    assert calls == []
