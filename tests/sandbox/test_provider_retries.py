"""Retries over real HTTP (reads and idempotent writes): 429 with Retry-After, 5xx and dropped
connections; and what is never retried. Creates are never retried: see test_provider_create."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from modeldeck.provider import (
    InvalidParameterError,
    ServerError,
    ThrottlingError,
    parse_retry_after,
)
from modeldeck.sandbox import FaultRule
from modeldeck.timeutil import utcnow
from tests.sandbox.sbhelpers import MU_BODY, MakeSandbox

CREATE = {"method": "POST", "path": "/api/v1/deployments"}


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [float(r.args[-1]) for r in caplog.records if r.name == "modeldeck.provider"]  # type: ignore[index, arg-type]


def test_429_is_retried_honouring_retry_after(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    throttle = FaultRule(kind="throttle", times=2, retry_after_seconds=0.05)
    sb = make_sandbox(faults=[throttle])
    caplog.set_level(logging.WARNING, logger="modeldeck.provider")
    with sb.client(backoff_base=2.0) as client:
        assert client.list_deployments().total == 0
    delays = retry_delays(caplog)
    assert len(delays) == 2
    # Retry-After (0.05 s) wins over the 2 s backoff; up to 10 % jitter is added.
    assert all(0.05 <= d <= 0.055 + 1e-9 for d in delays), delays


def test_throttling_beyond_the_retries_raises_with_retry_after(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="throttle", retry_after_seconds=0.01)])
    with sb.client(max_retries=2) as client, pytest.raises(ThrottlingError) as info:
        client.get_deployment("x")
    assert info.value.status_code == 429 and info.value.code == "Throttling"
    assert info.value.retry_after == pytest.approx(0.01)
    assert info.value.attempts == 3
    assert sb.sandbox.fault_hits == {0: 3}


def test_retry_after_longer_than_the_cap_is_not_waited_for(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="throttle", retry_after_seconds=3600)])
    with sb.client(max_retry_after=60) as client, pytest.raises(ThrottlingError) as info:
        client.list_deployments()
    assert info.value.retry_after == 3600 and info.value.attempts == 1


def test_5xx_is_retried_with_backoff(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="error", status=503, times=2)])
    caplog.set_level(logging.WARNING, logger="modeldeck.provider")
    with sb.client(backoff_base=0.01, backoff_max=0.02) as client:
        assert client.list_deployments().total == 0
    delays = retry_delays(caplog)
    assert len(delays) == 2 and all(0.005 <= d <= 0.02 for d in delays), delays


def test_5xx_that_persists_raises_server_error(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="error", status=500)])
    with sb.client(max_retries=1) as client, pytest.raises(ServerError) as info:
        client.list_deployments()
    assert (info.value.status_code, info.value.code, info.value.attempts) == (
        500,
        "InternalError",
        2,
    )


def test_user_errors_are_never_retried(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox()
    with sb.client() as client, pytest.raises(InvalidParameterError) as info:
        client.create_deployment({**MU_BODY, "capacity": 5000})
    assert info.value.attempts == 1 and sb.sandbox.created_count() == 0


def test_connection_refused_is_a_connection_error(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox()
    url = sb.base_url
    sb.server.stop()
    from modeldeck.provider import ModelStudioClient, ProviderConnectionError

    client = ModelStudioClient(url, "sk-sandbox", max_retries=1, backoff_base=0.01)
    with client, pytest.raises(ProviderConnectionError) as info:
        client.list_deployments()
    assert info.value.attempts == 2 and info.value.status_code is None


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None
    future = utcnow() + timedelta(seconds=30)
    http_date = future.strftime("%a, %d %b %Y %H:%M:%S GMT")
    parsed = parse_retry_after(httpx.Headers({"retry-after": http_date}))
    assert parsed is not None and 25 <= parsed <= 30


def test_fault_rate_is_seeded_and_latency_before_the_handler_applies(
    make_sandbox: MakeSandbox,
) -> None:
    rules = [
        FaultRule(kind="error", status=503, rate=0.5, path="/api/v1/deployments"),
        FaultRule(kind="latency", latency_seconds=0.01, path="/compatible-mode"),
    ]
    first = make_sandbox(faults=rules, seed=7)
    second = make_sandbox(faults=rules, seed=7)
    statuses = [
        [sb.http.get("/api/v1/deployments").status_code for _ in range(20)]
        for sb in (first, second)
    ]
    assert statuses[0] == statuses[1]
    assert 0 < statuses[0].count(503) < 20
    chat = first.http.post("/compatible-mode/v1/chat/completions", json={"model": "x"})
    assert chat.status_code == 400 and first.sandbox.fault_hits[1] == 1


def test_faults_on_the_compatible_path_use_the_openai_error_body(
    make_sandbox: MakeSandbox,
) -> None:
    sb = make_sandbox(faults=[FaultRule(kind="throttle", path="/compatible-mode")])
    answer = sb.http.post("/compatible-mode/v1/chat/completions", json={})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
    assert answer.json()["error"]["code"] == "Throttling"
