"""Traces from Model Studio's monitoring: the sandbox's Prometheus answers what modeldeck asks."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from modeldeck.domain import DeploySpec
from modeldeck.errors import UserError
from modeldeck.planner import PrometheusUsage, TraceError, plan, usage_query
from modeldeck.provider import build_create_body
from modeldeck.sandbox.prometheus import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.timeutil import BEIJING
from tests.planner.planhelpers import catalog

START = datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
MIN = timedelta(minutes=1)
PTU = build_create_body(
    DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
)


@pytest.fixture
def sb() -> Iterator[RunningSandbox]:
    # a frozen clock (speed 1e-6) from a whole minute: each call lands in a known minute
    with running_sandbox(deploy_delay_seconds=0, clock_speed=1e-6, start_time=START) as sb:
        yield sb


def deploy(sb: RunningSandbox) -> str:
    with sb.client() as client:
        code = client.create_deployment(PTU).deployed_model
        sb.wait_for_status(client, code, "RUNNING")
    return code


def chat(sb: RunningSandbox, code: str, words: int, max_tokens: int) -> None:
    body = {"model": code, "messages": [{"role": "user", "content": " ".join(["w"] * words)}],
            "max_tokens": max_tokens}  # fmt: skip
    response = sb.http.post("/compatible-mode/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text


def monitoring(sb: RunningSandbox, secret: str = DEFAULT_ACCESS_KEY_SECRET) -> PrometheusUsage:
    return PrometheusUsage(f"{sb.url}/prometheus", DEFAULT_ACCESS_KEY_ID, secret)


def test_usage_per_minute_from_the_sandbox_monitoring(sb: RunningSandbox) -> None:
    code = deploy(sb)
    chat(sb, code, 30, 5)
    chat(sb, code, 20, 7)
    sb.sandbox.clock.advance(120)  # minute 2
    chat(sb, code, 11, 3)
    with monitoring(sb) as prom:
        trace = prom.trace(code, START, START + 4 * MIN)
    assert trace.start == START
    assert trace.input_tokens == [50, 0, 11, 0]
    assert trace.output_tokens == [12, 0, 3, 0]
    assert trace.zero_filled_minutes == 2
    # the same numbers the sandbox's own usage rows give
    rows = sb.http.get(f"/_sandbox/usage/{code}").json()["output"]["minutes"]
    assert [r["input_tokens"] for r in rows] == [50, 11]
    result = plan(trace, "qwen3-max-2025-09-23", catalog=catalog())
    assert result.option("payg").total is not None


def test_long_periods_are_fetched_in_chunks(sb: RunningSandbox) -> None:
    code = deploy(sb)
    chat(sb, code, 4, 1)
    sb.sandbox.clock.advance(10_000 * 60)  # minute 10,000: the first minute of the 2nd chunk
    chat(sb, code, 6, 2)
    with monitoring(sb) as prom:
        trace = prom.trace(code, START, START + 15_000 * MIN)
    assert trace.minutes == 15_000
    assert trace.input_tokens[0] == 4 and trace.input_tokens[10_000] == 6
    assert sum(trace.input_tokens) == 10 and trace.zero_filled_minutes == 14_998


def test_wrong_access_key_is_a_clear_error_without_the_secret(sb: RunningSandbox) -> None:
    code = deploy(sb)
    wrong = "not-the-right-secret-4c1f"
    with monitoring(sb, wrong) as prom, pytest.raises(UserError) as caught:
        prom.trace(code, START, START + MIN)
    text = str(caught.value)
    assert "refused the AccessKey LTAI5t…" in text and "not the DashScope API key" in text
    assert wrong not in text and DEFAULT_ACCESS_KEY_SECRET not in text


def basic() -> dict[str, str]:
    token = base64.b64encode(f"{DEFAULT_ACCESS_KEY_ID}:{DEFAULT_ACCESS_KEY_SECRET}".encode())
    return {"Authorization": f"Basic {token.decode()}"}


def test_the_sandbox_answers_like_prometheus(sb: RunningSandbox) -> None:
    url = f"{sb.url}/prometheus/api/v1/query_range"
    q = usage_query("m")
    t0 = int(START.timestamp())
    ok = httpx.get(url, params={"query": q, "start": t0, "end": t0 + 60, "step": 60},
                   headers=basic())  # fmt: skip
    assert ok.json() == {"status": "success", "data": {"resultType": "matrix", "result": []}}
    too_many = httpx.get(url, params={"query": q, "start": t0, "end": t0 + 60 * 20_000,
                                      "step": 60}, headers=basic())  # fmt: skip
    assert too_many.status_code == 400
    assert "exceeded maximum resolution of 11,000 points" in too_many.json()["error"]
    other = httpx.get(url, params={"query": "up", "start": t0, "end": t0, "step": 60},
                      headers=basic())  # fmt: skip
    assert other.status_code == 400 and other.json()["errorType"] == "bad_data"
    assert httpx.get(url, params={"query": q}).status_code == 401


def answering(body: Any, status: int = 200) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


def test_unreadable_answers_are_reported() -> None:
    t0 = int(START.timestamp()) + 60
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"usage_type": "input_tokens"},
         "values": [[t0, "-3"], [t0 + 60, "lots"], [t0 + 30, "5"], [t0 + 120, "119.6"]]},
        {"metric": {"usage_type": "input_tokens", "model": "other"}, "values": []},
    ]}}  # fmt: skip
    prom = PrometheusUsage("http://prom.invalid", "id", "secret", transport=answering(body))
    with pytest.raises(TraceError) as caught:
        prom.trace("m", START, START + 3 * MIN)
    joined = "\n".join(caught.value.problems)
    assert "input_tokens: -3 tokens in the minute ending 2026-03-01T02:01:00+00:00" in joined
    assert "unreadable sample" in joined and "off the minute grid" in joined
    assert "more than one input_tokens series" in joined
    refused = {"status": "error", "errorType": "bad_data", "error": "parse error"}
    prom = PrometheusUsage("http://prom.invalid", "id", "secret", transport=answering(refused, 400))
    with pytest.raises(TraceError, match="Prometheus refused the query: parse error"):
        prom.trace("m", START, START + MIN)


def test_extrapolated_increases_round_to_whole_tokens() -> None:
    t0 = int(START.timestamp()) + 60
    body = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"usage_type": "input_tokens"}, "values": [[t0, "119.5"]]},
        {"metric": {"usage_type": "output_tokens"}, "values": [[t0, "4.49"]]},
    ]}}  # fmt: skip
    prom = PrometheusUsage("http://prom.invalid", "id", "secret", transport=answering(body))
    trace = prom.trace("m", START, START + MIN)
    assert (trace.input_tokens, trace.output_tokens) == ([120], [4])
