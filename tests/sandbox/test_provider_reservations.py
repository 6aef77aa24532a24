"""PTU reservations through the client, against the sandbox over HTTP (reservations generation):
capacity instances, operations polled to a final state, scale addressed to an instance and read
back, renew, release-before-delete, and prepaid instances explained instead of released."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from modeldeck.domain import DeploySpec
from modeldeck.provider import (
    CapacityInstanceRequired,
    CapacityMismatch,
    ModelStudioClient,
    OperationFailed,
    OperationPending,
    PrepaidUnsubscribeRequired,
    ProviderNotFound,
    build_create_body,
    request_uuid,
)
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MakeSandbox

MODEL = "qwen3-max-2025-09-23"
HOURLY = DeploySpec(model=MODEL, plan="ptu", input_tpm=20000, output_tpm=2000)
UPFRONT = DeploySpec(
    model=MODEL, plan="ptu", input_tpm=10000, output_tpm=1000, billing="upfront", days=7
)


@pytest.fixture
def sb(make_sandbox: MakeSandbox) -> RunningSandbox:
    return make_sandbox(
        api_generation="reservations", operation_delay_seconds=0.2, billing_delay_seconds=0.1
    )


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[ModelStudioClient]:
    with sb.client(api_generation="reservations", poll_initial=0.05, poll_max=0.2) as c:
        yield c


def deploy(sb: RunningSandbox, client: ModelStudioClient, spec: DeploySpec, key: str) -> str:
    info = client.create_deployment(build_create_body(spec), idempotency_key=key)
    sb.wait_for_status(client, info.deployed_model, "RUNNING")
    return info.deployed_model


def sent_requests(client: ModelStudioClient) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    client.wire.http.event_hooks["request"].append(seen.append)
    return seen


def test_ktpm_on_the_wire_tpm_for_everyone_else(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    seen = sent_requests(client)
    code = deploy(sb, client, HOURLY, "req-unit")
    create = next(r for r in seen if r.method == "POST")
    assert json.loads(create.content)["ptu_capacity"] == {"input_tpm": 20, "output_tpm": 2}
    assert client.get_deployment(code).ptu_capacity.tpm() == {  # type: ignore[union-attr]
        "input_tpm": 20000,
        "output_tpm": 2000,
    }
    [instance] = client.list_capacity_instances(code)
    assert instance.charge_type == "post_paid" and not instance.deleted
    assert instance.effective_capacity is not None
    assert instance.effective_capacity.tpm() == {"input_tpm": 20000, "output_tpm": 2000}


def test_scale_addresses_the_instance_polls_and_reads_back(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    code = deploy(sb, client, HOURLY, "req-scale-0")
    [instance] = client.list_capacity_instances(code)
    seen = sent_requests(client)
    info = client.scale_deployment(
        code, ptu_capacity={"input_tpm": 40000, "output_tpm": 4000}, idempotency_key="req-scale"
    )
    assert info.ptu_capacity is not None
    assert info.ptu_capacity.tpm() == {"input_tpm": 40000, "output_tpm": 4000}
    [write] = [r for r in seen if r.method == "PUT"]
    assert write.url.path.endswith(f"/capacity-instances/{instance.instance_id}/scale")
    assert json.loads(write.content) == {
        "ptu_capacity": {"input_tpm": 40, "output_tpm": 4},
        "order_type": "UPGRADE",
    }
    expected = request_uuid("req-scale", f"scale:{instance.instance_id}")
    assert write.headers["x-acs-req-uuid"] == write.headers["x-dashscope-requestid"] == expected
    polls = [r for r in seen if "/capacity-operations/" in r.url.path]
    assert polls, "success is the operation's final state, so it must have been polled"


def test_the_same_key_reuses_the_operation(sb: RunningSandbox, client: ModelStudioClient) -> None:
    code = deploy(sb, client, HOURLY, "req-reuse-0")
    [instance] = client.list_capacity_instances(code)
    target = {"input_tpm": 30000, "output_tpm": 3000}
    first = client.scale_capacity_instance(
        code, instance.instance_id, target, idempotency_key="req-reuse"
    )
    again = client.scale_capacity_instance(
        code, instance.instance_id, target, idempotency_key="req-reuse"
    )
    assert first.operation_id == again.operation_id and again.succeeded


def test_an_operation_that_fails_inside_a_200_raises_and_changes_nothing(
    make_sandbox: MakeSandbox,
) -> None:
    fail = FaultRule(kind="operation_failed", method="PUT", code="InternalError")
    sb = make_sandbox(api_generation="reservations", operation_delay_seconds=0.1, faults=[fail])
    with sb.client(poll_initial=0.05, poll_max=0.2) as client:
        code = deploy(sb, client, HOURLY, "req-fail-0")
        with pytest.raises(OperationFailed) as info:
            client.scale_deployment(code, ptu_capacity={"input_tpm": 40000, "output_tpm": 4000})
        assert info.value.code == "InternalError" and "Nothing changed" in str(info.value)
        after = client.get_deployment(code)
    assert after.ptu_capacity is not None
    assert after.ptu_capacity.tpm() == {"input_tpm": 20000, "output_tpm": 2000}


def test_an_operation_still_running_is_pending_not_success(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(api_generation="reservations", operation_delay_seconds=30.0)
    with sb.client(poll_initial=0.05, poll_max=0.1, operation_timeout=0.4) as client:
        code = deploy(sb, client, HOURLY, "req-slow-0")
        [instance] = client.list_capacity_instances(code)
        with pytest.raises(OperationPending, match="still running") as info:
            client.scale_capacity_instance(
                code, instance.instance_id, {"input_tpm": 30000, "output_tpm": 3000}
            )
        assert info.value.operation_id
        now = client.get_capacity_instance(code, instance.instance_id)
        assert now.effective_capacity is not None
        assert now.effective_capacity.tpm() == {"input_tpm": 20000, "output_tpm": 2000}, (
            "until the operation succeeds the effective capacity is the old one"
        )
        assert client.get_deployment(code).ptu_capacity.tpm()["input_tpm"] == 20000  # type: ignore[union-attr]


def test_two_prepaid_instances_need_an_instance_id(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    code = deploy(sb, client, UPFRONT, "req-two")
    client.add_capacity_instance(
        code, {"input_tpm": 10000, "output_tpm": 1000}, days=3, idempotency_key="req-two-add"
    )
    assert len(client.list_capacity_instances(code)) == 2
    with pytest.raises(CapacityInstanceRequired, match="say which one"):
        client.scale_deployment(code, ptu_capacity={"input_tpm": 30000, "output_tpm": 3000})
    with pytest.raises(CapacityInstanceRequired, match="names exactly one"):
        client.renew(code, 7, False, idempotency_key="req-two-renew")


def test_renew_a_prepaid_instance(sb: RunningSandbox, client: ModelStudioClient) -> None:
    code = deploy(sb, client, UPFRONT, "req-renew-0")
    [before] = client.list_capacity_instances(code)
    op = client.renew(code, 7, True, idempotency_key="req-renew")
    assert op.succeeded
    after = client.get_capacity_instance(code, before.instance_id)
    assert before.gmt_expired is not None and after.gmt_expired is not None
    assert (after.gmt_expired - before.gmt_expired).days == 7


def test_unpublish_releases_post_paid_instances_then_deletes(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    code = deploy(sb, client, HOURLY, "req-del-0")
    [instance] = client.list_capacity_instances(code)
    seen = sent_requests(client)
    client.delete_deployment(code, idempotency_key="req-del")
    writes = [f"{r.method} {r.url.path.split(code)[-1]}" for r in seen if r.method != "GET"]
    assert writes == [f"DELETE /capacity-instances/{instance.instance_id}", "DELETE "]
    release = next(r for r in seen if r.method == "DELETE")
    assert release.url.params["reason"] and release.headers["x-acs-req-uuid"] == request_uuid(
        "req-del", f"release:{instance.instance_id}"
    )
    polls = [i for i, r in enumerate(seen) if "/capacity-operations/" in r.url.path]
    code_delete = max(i for i, r in enumerate(seen) if r.method == "DELETE")
    assert polls and max(polls) < code_delete, "the release is waited for before the delete"
    sb.wait_for_status(client, code, None)
    with pytest.raises(ProviderNotFound):
        client.get_deployment(code)


def test_a_live_prepaid_instance_is_explained_not_released(
    sb: RunningSandbox, client: ModelStudioClient
) -> None:
    code = deploy(sb, client, UPFRONT, "req-pre-0")
    with pytest.raises(PrepaidUnsubscribeRequired) as info:
        client.delete_deployment(code, idempotency_key="req-pre")
    assert "console" in (info.value.hint or "") and "Unsubscribe" in (info.value.hint or "")
    assert info.value.code == "PREPAID_UNSUBSCRIBE_REQUIRED"
    assert [i.deleted for i in client.list_capacity_instances(code, include_deleted=True)] == [
        False
    ]
    assert client.get_deployment(code).status == "RUNNING"


def test_a_read_back_that_differs_is_a_capacity_mismatch() -> None:
    """The service applies 1000x what was asked (a unit mix-up): an alarm, never success."""
    seen: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        wrong = {"input_tpm": 20_000_000, "output_tpm": 2_000_000}
        body = {"deployed_model": "m-1", "plan": "ptu", "status": "RUNNING", "ptu_capacity": wrong}
        return httpx.Response(200, json={"request_id": "r", "output": body})

    transport = httpx.MockTransport(service)
    with (
        ModelStudioClient(
            "https://dashscope.aliyuncs.com/api/v1",
            "k",
            transport=transport,
            api_generation="legacy",
        ) as client,
        pytest.raises(CapacityMismatch) as info,
    ):
        client.scale_deployment("m-1", ptu_capacity={"input_tpm": 20000, "output_tpm": 2000})
    assert info.value.expected == {"input_tpm": 20000, "output_tpm": 2000}
    assert info.value.actual == {"input_tpm": 20_000_000, "output_tpm": 2_000_000}
    assert seen == ["PUT /api/v1/deployments/m-1/scale", "GET /api/v1/deployments/m-1"]


def test_a_final_failed_answer_is_raised_without_polling() -> None:
    answers = {
        "operation_id": 77,
        "operation_type": "SCALE",
        "operation_status": "FAILED",
        "error_code": "BILLING_ACCOUNT_NOT_READY",
        "error_message": "The billing account is not ready.",
    }
    seen: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"request_id": "r", "data": answers})

    with (
        ModelStudioClient(
            "https://dashscope.aliyuncs.com/api/v1", "k", transport=httpx.MockTransport(service)
        ) as client,
        pytest.raises(OperationFailed, match="not ready") as info,
    ):
        client.scale_capacity_instance("m-1", "ci-1", {"input_tpm": 1000, "output_tpm": 1000})
    assert info.value.operation_id == "77" and len(seen) == 1


@pytest.mark.parametrize(
    ("code", "cls_name"),
    [
        ("CAPACITY_INSTANCE_REQUIRED", "CapacityInstanceRequired"),
        ("CAPACITY_INSTANCE_OPERATION_UNSUPPORTED", "OperationUnsupported"),
        ("PREPAID_UNSUBSCRIBE_REQUIRED", "PrepaidUnsubscribeRequired"),
        ("POSTPAID_INSTANCE_ALREADY_EXISTS", "PostpaidInstanceExists"),
        ("CAPACITY_SLOT_LIMIT_EXCEEDED", "CapacityLimitExceeded"),
        ("TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED", "CapacityLimitExceeded"),
        ("MODEL_CODE_DELETED", "ModelCodeDeleted"),
        ("MODEL_CODE_NOT_FOUND", "ProviderNotFound"),
        ("CAPACITY_INSTANCE_NOT_FOUND", "CapacityInstanceNotFound"),
        ("CAPACITY_OPERATION_NOT_FOUND", "CapacityOperationNotFound"),
        ("CAPACITY_INSTANCE_OPERATION_CONFLICT", "OperationConflict"),
        ("IDEMPOTENCY_KEY_CONFLICT", "IdempotencyKeyConflict"),
        ("BILLING_ACCOUNT_NOT_READY", "BillingAccountNotReady"),
        ("BILLING_SERVICE_UNAVAILABLE", "BillingServiceUnavailable"),
    ],
)
def test_every_reservation_error_code_is_typed(code: str, cls_name: str) -> None:
    import modeldeck.provider as provider
    from modeldeck.provider.errors import make_error

    status = {"NOT_FOUND": 404, "CONFLICT": 409, "NOT_READY": 403, "UNAVAILABLE": 503}
    http = next((v for k, v in status.items() if code.endswith(k)), 400)
    err = make_error(http, code, "text", "rid")
    assert type(err) is getattr(provider, cls_name)
    assert err.code == code


def test_the_legacy_generation_scales_the_deployment_in_tpm(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(api_generation="legacy")
    with sb.client(api_generation="legacy") as client:
        seen = sent_requests(client)
        code = deploy(sb, client, HOURLY, "req-legacy")
        info = client.scale_deployment(code, ptu_capacity={"input_tpm": 30000, "output_tpm": 3000})
        client.delete_deployment(code)
    assert info.ptu_capacity is not None
    assert info.ptu_capacity.tpm() == {"input_tpm": 30000, "output_tpm": 3000}
    create = next(r for r in seen if r.method == "POST")
    assert json.loads(create.content)["ptu_capacity"] == {"input_tpm": 20000, "output_tpm": 2000}
    [scale] = [r for r in seen if r.method == "PUT"]
    assert scale.url.path == f"/api/v1/deployments/{code}/scale"
    assert json.loads(scale.content) == {"ptu_capacity": {"input_tpm": 30000, "output_tpm": 3000}}
    assert not any("capacity-" in r.url.path for r in seen)


def test_a_lost_answer_on_an_instance_write_is_retried_into_the_same_operation(
    make_sandbox: MakeSandbox,
) -> None:
    lost = FaultRule(kind="error", status=500, method="PUT", times=1, after_handler=True)
    sb = make_sandbox(api_generation="reservations", operation_delay_seconds=0.1, faults=[lost])
    with sb.client(poll_initial=0.05, poll_max=0.2) as client:
        code = deploy(sb, client, HOURLY, "req-retry-0")
        [instance] = client.list_capacity_instances(code)
        seen = sent_requests(client)
        first = client.scale_capacity_instance(
            code, instance.instance_id, {"input_tpm": 30000, "output_tpm": 3000}
        )
        writes = [r for r in seen if r.method == "PUT"]
        assert len(writes) == 2 and sb.sandbox.fault_hits == {0: 1}
        assert len({w.headers["x-acs-req-uuid"] for w in writes}) == 1, "one request id"
        later = client.scale_capacity_instance(
            code, instance.instance_id, {"input_tpm": 40000, "output_tpm": 4000}
        )
    assert first.succeeded and int(later.operation_id) == int(first.operation_id) + 1, (
        "the retried write reused its operation instead of starting a second one"
    )


def test_an_mu_scale_that_reads_back_otherwise_is_a_mismatch() -> None:
    answer = {"deployed_model": "mu-1", "plan": "mu", "status": "UPDATING", "capacity": 2}
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json={"request_id": "r", "output": answer})
    )
    client = ModelStudioClient("https://dashscope.aliyuncs.com/api/v1", "k", transport=transport)
    with client, pytest.raises(CapacityMismatch) as info:
        client.scale_deployment("mu-1", capacity=4)
    assert (info.value.expected, info.value.actual) == ({"capacity": 4}, {"capacity": 2})


def test_capacity_instances_are_read_page_after_page() -> None:
    """The `records` envelope (`items` = total, `page`, `itemsPerPage`, `pageCount`), kTPM
    capacities read as TPM, and released instances left out unless asked for."""

    def record(n: int, deleted: bool = False) -> dict[str, object]:
        cap = {"input_tpm": 10 * n, "output_tpm": n}
        return {
            "instance_id": f"ci-{n}",
            "charge_type": "post_paid" if n == 1 else "pre_paid",
            "status": "RUNNING",
            "deleted": deleted,
            "effective_capacity": cap,
            "gmt_expired": "2026-03-08T23:59:59",
        }

    pages = {"1": [record(1), record(2)], "2": [record(3, deleted=True)]}
    asked: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page_no"]
        asked.append(page)
        body = {"records": pages[page], "items": 3, "page": int(page), "itemsPerPage": 2}
        return httpx.Response(200, json={"request_id": "r", "data": {**body, "pageCount": 2}})

    client = ModelStudioClient(
        "https://dashscope.aliyuncs.com/api/v1", "k", transport=httpx.MockTransport(service)
    )
    with client:
        live = client.list_capacity_instances("m-1")
        every = client.list_capacity_instances("m-1", include_deleted=True)
    assert [i.instance_id for i in live] == ["ci-1", "ci-2"]
    assert [i.instance_id for i in every] == ["ci-1", "ci-2", "ci-3"]
    assert asked == ["1", "2", "1", "2"]
    assert live[1].prepaid and live[1].effective_capacity is not None
    assert live[1].effective_capacity.tpm() == {"input_tpm": 20000, "output_tpm": 2000}
    assert live[1].gmt_expired is not None and live[1].gmt_expired.utcoffset() is not None
