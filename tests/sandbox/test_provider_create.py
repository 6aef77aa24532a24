"""Creates that cannot double-buy, against the sandbox over HTTP, in both API generations.

Every fault a create's answer can meet (a 500 after the service created it, a time-out after the
create, a dropped connection, a 409 for our own code) ends with exactly one deployment, adopted;
a create the service never processed ends in CreateNotApplied; a look-up that cannot be done ends
in CreateOutcomeUnknown. The create itself is sent once, with an explicit suffix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modeldeck.domain import DeploySpec
from modeldeck.errors import ValidationFailed
from modeldeck.provider import (
    CreateNotApplied,
    CreateOutcomeUnknown,
    ModelStudioClient,
    ProviderConflict,
    build_create_body,
    derive_suffix,
)
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MU_BODY, MakeSandbox

CREATE = {"method": "POST", "path": "/api/v1/deployments"}
LOOKUPS = {"method": "GET", "path": "/api/v1/deployments"}
PTU_SPEC = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20000, output_tpm=2000)


@pytest.fixture(params=["reservations", "legacy"])
def generation(request: pytest.FixtureRequest) -> str:
    """Both API generations: the sandbox emulates the one the client speaks."""
    value: str = request.param
    return value


@pytest.fixture
def start(make_sandbox: MakeSandbox, generation: str) -> Iterator[Any]:
    """Start a sandbox of the generation with `faults`; yield it and a matching client."""
    clients: list[ModelStudioClient] = []

    def run(faults: list[FaultRule], **kwargs: Any) -> tuple[RunningSandbox, ModelStudioClient]:
        sb = make_sandbox(faults=faults, api_generation=generation)
        client = sb.client(api_generation=generation, **kwargs)
        clients.append(client)
        return sb, client

    yield run
    for client in clients:
        client.close()


def bodies() -> list[dict[str, Any]]:
    return [MU_BODY, build_create_body(PTU_SPEC)]


LOST_ANSWERS = [
    pytest.param(FaultRule(kind="error", status=500, after_handler=True, **CREATE), id="500"),
    pytest.param(FaultRule(kind="error", status=503, after_handler=True, **CREATE), id="503"),
    pytest.param(
        FaultRule(kind="latency", latency_seconds=30.0, after_handler=True, **CREATE),
        id="timeout",
    ),
    pytest.param(FaultRule(kind="drop", after_handler=True, **CREATE), id="dropped"),
]


@pytest.mark.parametrize("fault", LOST_ANSWERS)
@pytest.mark.parametrize("body", bodies(), ids=["mu", "ptu"])
def test_a_lost_answer_after_the_create_adopts_exactly_one(
    start: Any, fault: FaultRule, body: dict[str, Any]
) -> None:
    sb, client = start([fault], timeout=1.0)
    info = client.create_deployment(body, idempotency_key="req-lost-1")
    assert info.adopted is True
    assert info.deployed_model == f"{body['model_name']}-{derive_suffix('req-lost-1')}"
    assert sb.sandbox.fault_hits == {0: 1}, "the create must be sent exactly once"
    assert sb.sandbox.created_count() == 1
    assert [d.deployed_model for d in client.iter_deployments()] == [info.deployed_model]


def test_a_409_for_our_own_code_is_adoption(start: Any) -> None:
    sb, client = start([])
    first = client.create_deployment(MU_BODY, idempotency_key="req-409")
    again = client.create_deployment(MU_BODY, idempotency_key="req-409")
    assert first.adopted is False and again.adopted is True
    assert again.deployed_model == first.deployed_model
    assert sb.sandbox.created_count() == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(FaultRule(kind="error", status=500, **CREATE), id="500-before"),
        pytest.param(FaultRule(kind="latency", latency_seconds=30.0, **CREATE), id="timeout"),
    ],
)
def test_a_create_the_service_never_processed_is_not_applied(start: Any, fault: FaultRule) -> None:
    sb, client = start([fault], timeout=1.0)
    with pytest.raises(CreateNotApplied) as info:
        client.create_deployment(MU_BODY, idempotency_key="req-none")
    assert info.value.deployed_model == f"qwen3-32b-{derive_suffix('req-none')}"
    assert "nothing was created" in str(info.value)
    assert sb.sandbox.created_count() == 0 and sb.sandbox.fault_hits[0] == 1


def test_a_lookup_that_cannot_be_done_is_outcome_unknown(start: Any) -> None:
    drop = FaultRule(kind="drop", after_handler=True, **CREATE)
    lookups_down = FaultRule(kind="error", status=503, **LOOKUPS)
    sb, client = start([drop, lookups_down], max_retries=1)
    with pytest.raises(CreateOutcomeUnknown) as info:
        client.create_deployment(MU_BODY, idempotency_key="req-unknown")
    assert info.value.deployed_model == f"qwen3-32b-{derive_suffix('req-unknown')}"
    assert "keep the request" in str(info.value)
    # It was created: that is exactly why the request must be kept, not failed.
    assert sb.sandbox.created_count() == 1 and sb.sandbox.fault_hits[0] == 1


def test_the_spec_suffix_wins_and_no_key_still_sends_one(start: Any) -> None:
    sb, client = start([])
    named = client.create_deployment({**MU_BODY, "suffix": "team1"}, idempotency_key="req-x")
    assert named.deployed_model == "qwen3-32b-team1"
    anonymous = client.create_deployment(MU_BODY)
    suffix = anonymous.deployed_model.removeprefix("qwen3-32b-")
    assert len(suffix) == 8 and suffix.isalnum() and suffix == suffix.lower()
    assert sb.sandbox.created_count() == 2


def test_derived_suffixes_are_stable_short_and_distinct() -> None:
    keys = [f"req_{n:04d}" for n in range(500)]
    suffixes = [derive_suffix(k) for k in keys]
    assert suffixes == [derive_suffix(k) for k in keys]
    assert len(set(suffixes)) == len(keys)
    assert all(len(s) == 8 and s.isalnum() and s == s.lower() for s in suffixes)


@pytest.mark.parametrize("suffix", ["Team1", "a-b", "toolongsuffix", ""])
def test_an_invalid_suffix_is_refused_before_the_call(suffix: str, start: Any) -> None:
    sb, client = start([])
    if suffix == "":
        assert client.create_deployment({**MU_BODY, "suffix": ""}).deployed_model
        return
    with pytest.raises(ValidationFailed, match="1 to 8 lowercase letters or digits"):
        client.create_deployment({**MU_BODY, "suffix": suffix})
    assert sb.sandbox.created_count() == 0


def test_a_code_held_by_another_model_is_not_adopted(start: Any) -> None:
    sb, client = start([])
    # Two models whose names make the same code: "a-b" + "c" and "a" + "b-c" cannot both exist in
    # the sandbox's catalog, so adopt() is checked directly on a found deployment of another model.
    first = client.create_deployment({**MU_BODY, "suffix": "own1"})
    with pytest.raises(ProviderConflict, match="another model"):
        client._adopt(
            first.deployed_model,
            {"model_name": "qwen3-max-2025-09-23"},
            ProviderConflict("lost"),
            conflict=True,
        )
    assert sb.sandbox.created_count() == 1


def test_a_success_whose_body_cannot_be_read_is_a_lost_answer() -> None:
    """HTTP 200 with a garbled body: the deployment exists, so it is looked up and adopted."""
    import httpx

    code = f"qwen3-32b-{derive_suffix('req-garbled')}"
    found = {"deployed_model": code, "model_name": "qwen3-32b", "plan": "mu", "status": "PENDING"}
    calls: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(200, text="<html>proxy page</html>")
        return httpx.Response(200, json={"request_id": "r", "output": found})

    client = ModelStudioClient(
        "https://dashscope.aliyuncs.com/api/v1", "k", transport=httpx.MockTransport(service)
    )
    with client:
        info = client.create_deployment(MU_BODY, idempotency_key="req-garbled")
    assert info.adopted and info.deployed_model == code
    assert calls == ["POST /api/v1/deployments", f"GET /api/v1/deployments/{code}"]
