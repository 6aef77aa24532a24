"""Calling deployed models on the sandbox: usage, streaming, PTU overflow and MU rate limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from modeldeck.sandbox import OVERFLOW_HEADER, count_tokens, prompt_tokens
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.timeutil import BEIJING
from tests.sandbox.sbhelpers import (
    MU_BODY,
    PTU_RESERVATION_BODY,
    MakeSandbox,
    deploy,
    ok,
    sse_events,
)

# Virtual time starts on a whole minute, so a burst stays inside one per-minute window.
MINUTE_START = datetime(2026, 3, 1, 10, 0, 0, tzinfo=BEIJING)


def chat(sb: RunningSandbox, model: str, text: str, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return sb.http.post("/compatible-mode/v1/chat/completions", json=body)


PTU_BODY = PTU_RESERVATION_BODY


def test_token_count_is_the_documented_rule() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("你好 world") == 3
    assert count_tokens("") == 0
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]},
    ]
    assert prompt_tokens(messages) == 3 + 1 + 64


def test_chat_answers_deterministically_with_real_usage(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    first = chat(sb, code, "Who are you?", max_tokens=5)
    second = chat(sb, code, "Who are you?", max_tokens=5)
    assert first.status_code == 200
    body = first.json()
    assert body["object"] == "chat.completion" and body["model"] == code
    assert body["choices"][0]["message"]["content"] == "Who are you ? Who"
    assert body["choices"][0]["finish_reason"] == "length"
    assert second.json()["choices"] == body["choices"]
    assert body["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 5,
        "total_tokens": 9,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert OVERFLOW_HEADER not in first.headers
    default = chat(sb, code, "hi").json()
    assert default["usage"]["completion_tokens"] == 16
    assert default["choices"][0]["finish_reason"] == "stop"


def test_streaming_puts_usage_in_a_last_chunk_without_choices(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    whole = chat(sb, code, "one two three", max_tokens=10).json()
    streamed = chat(
        sb,
        code,
        "one two three",
        max_tokens=10,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed.text)
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    *content_events, last = events
    assert last["choices"] == [] and last["usage"] == whole["usage"]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in content_events)
    assert text == whole["choices"][0]["message"]["content"]
    assert content_events[-1]["choices"][0]["finish_reason"] == "length"
    assert all(e["usage"] is None for e in content_events)

    plain = sse_events(chat(sb, code, "one two three", stream=True).text)
    assert all(e["choices"] and "usage" not in e for e in plain)


def test_thinking_counts_reasoning_tokens(sb: RunningSandbox) -> None:
    code = deploy(sb, {**PTU_BODY, "model_name": "qwen-plus-2025-12-01"})
    answer = chat(sb, code, "why", max_tokens=3, enable_thinking=True).json()
    usage = answer["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 3
    assert answer["choices"][0]["message"]["reasoning_content"] == "thinking about why"
    off = chat(sb, code, "why", max_tokens=3, enable_thinking=False).json()
    assert off["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_ptu_burst_over_purchased_tpm_overflows(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START)
    code = deploy(sb, PTU_BODY)  # 10 kTPM in, 1 kTPM out: 10,000 and 1,000 tokens per minute
    answers = [chat(sb, code, "hello there", max_tokens=400) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    flags = [a.headers.get(OVERFLOW_HEADER) for a in answers]
    assert flags == [None, None, "true", "true"]  # 400 + 400 fit in 1,000; the third does not
    served, overflowed = answers[0].json(), answers[2].json()
    assert served["service_tier"] == "ptu-standard"
    assert served["usage"]["prompt_tokens_details"]["provisioned_tokens"] == 2
    assert served["usage"]["completion_tokens_details"]["provisioned_tokens"] == 400
    assert "service_tier" not in overflowed
    assert "provisioned_tokens" not in overflowed["usage"]["completion_tokens_details"]
    rows = sb.http.get(f"/_sandbox/usage/{code}").json()["output"]["minutes"]
    assert len(rows) == 1
    assert rows[0]["requests"] == 4 and rows[0]["overflow_requests"] == 2
    assert rows[0]["output_tokens"] == 1600 and rows[0]["overflow_output_tokens"] == 800


def test_ptu_with_overflow_disabled_refuses_with_429(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START, ptu_overflow=False)
    code = deploy(sb, PTU_BODY)
    assert chat(sb, code, "hi", max_tokens=600).status_code == 200
    refused = chat(sb, code, "hi", max_tokens=600)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "insufficient_quota"  # the compatible code of AllocationQuota
    assert error["message"] == "Allocated quota exceeded, please increase your quota limit."
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Turning overflow on at the provider serves the same call as pay-as-you-go.
    path = f"/deployments/{code}/update-overflowstrategy"
    assert (
        ok(sb, "PUT", path, json={"overflow_strategy": "enable"})["overflow_strategy"] == "enable"
    )
    assert chat(sb, code, "hi", max_tokens=600).headers[OVERFLOW_HEADER] == "true"


def test_input_over_the_models_max_input_overflows(sb: RunningSandbox) -> None:
    big = {
        **PTU_BODY,
        "model_name": "deepseek-v3.2",
        "ptu_capacity": {"input_tpm": 1_000, "output_tpm": 100},
    }
    code = deploy(sb, big)
    within = chat(sb, code, "x " * 64_000, max_tokens=1)
    over = chat(sb, code, "x " * 64_001, max_tokens=1)
    assert within.headers.get(OVERFLOW_HEADER) is None
    assert over.status_code == 200 and over.headers[OVERFLOW_HEADER] == "true"
    assert over.json()["usage"]["prompt_tokens"] == 64_001


def test_mu_rpm_limit_gives_rate_quota_429(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START, rate_limit_models=["qwen3-32b"])
    code = deploy(sb, {**MU_BODY, "rpm_limit": 2})
    codes = [chat(sb, code, "hi").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = chat(sb, code, "hi")
    assert refused.json()["error"]["code"] == "limit_requests"
    assert refused.json()["error"]["message"] == (
        "Requests rate limit exceeded, please try again later."
    )
    assert int(refused.headers["retry-after"]) >= 1


def test_mu_tpm_limit_set_through_update(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START, rate_limit_models=["qwen3-32b"])
    code = deploy(sb, MU_BODY)
    limited = ok(sb, "PUT", f"/deployments/{code}/update", json={"tpm_limit": 30})
    assert (limited["tpm_limit"], limited["rpm_limit"]) == (30, None)
    assert chat(sb, code, "hi", max_tokens=20).status_code == 200  # 21 tokens
    refused = chat(sb, code, "hi", max_tokens=20)  # 42 > 30
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "limit_requests"


def test_chat_errors_use_the_openai_compatible_body(sb: RunningSandbox) -> None:
    missing = chat(sb, "qwen3-32b-nope", "hi")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "The model qwen3-32b-nope does not exist or you do not have access to it."
    )
    assert missing.json()["error"]["code"] == "model_not_found"
    bad_key = httpx.post(
        f"{sb.compatible_url}/chat/completions",
        json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": "Bearer sk-nope"},
    )
    assert bad_key.status_code == 401
    assert bad_key.json()["error"] == {
        "message": "Invalid API-key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    code = deploy(sb, MU_BODY)
    empty = sb.http.post("/compatible-mode/v1/chat/completions", json={"model": code})
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "messages"


def test_a_pending_deployment_does_not_serve(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(deploy_delay_seconds=600)
    code = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    answer = chat(sb, code, "hi")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "ModelServingError"
    assert answer.json()["error"]["message"] == (
        f"Deployed model {code} is PENDING and cannot serve requests."
    )


def test_invalid_max_tokens_is_400(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    for max_tokens in (0, -1, "3", True):
        answer = chat(sb, code, "hi", max_tokens=max_tokens)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "max_tokens"
