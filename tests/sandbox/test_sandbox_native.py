"""The sandbox held to clients nobody here wrote: the official `dashscope` SDK on the native
generation endpoint (plain and SSE) and the official `openai` SDK on the compatible endpoint;
native and compatible error codes per the error-code page."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import openai
import pytest
from dashscope import Generation
from openai.types.chat import ChatCompletionMessageParam

from modeldeck.sandbox import OVERFLOW_HEADER
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.timeutil import BEIJING
from tests.sandbox.sbhelpers import MU_BODY, PTU_RESERVATION_BODY, MakeSandbox, deploy

KEY = "sk-sandbox"
MINUTE_START = datetime(2026, 3, 1, 10, 0, 0, tzinfo=BEIJING)
NATIVE = "/api/v1/services/aigc/text-generation/generation"
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there"}]


def generation(sb: RunningSandbox, **kwargs: Any) -> Any:
    return Generation.call(api_key=KEY, base_address=sb.base_url, **kwargs)


def usage_rows(sb: RunningSandbox, code: str) -> list[dict[str, Any]]:
    return list(sb.http.get(f"/_sandbox/usage/{code}").json()["output"]["minutes"])


def test_dashscope_generation_call_gets_native_choices_and_usage(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    answer = generation(sb, model=code, messages=HELLO, result_format="message", max_tokens=5)
    assert answer.status_code == 200 and answer.request_id
    (choice,) = answer.output.choices
    assert choice.finish_reason == "length"
    assert choice.message.role == "assistant"
    assert choice.message.content == "hello there hello there hello"
    assert answer.usage.input_tokens == 2 and answer.usage.output_tokens == 5
    assert answer.usage.total_tokens == 7
    (row,) = usage_rows(sb, code)  # metered like the compatible endpoint
    assert (row["requests"], row["input_tokens"], row["output_tokens"]) == (1, 2, 5)


def test_dashscope_prompt_and_the_text_result_format(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    answer = generation(sb, model=code, prompt="one two", max_tokens=2)
    assert answer.status_code == 200
    assert answer.output.text == "one two" and answer.output.finish_reason == "length"


@pytest.mark.parametrize("incremental", [True, False])
def test_dashscope_streaming_over_sse(sb: RunningSandbox, incremental: bool) -> None:
    code = deploy(sb, MU_BODY)
    events = list(
        generation(
            sb,
            model=code,
            messages=HELLO,
            result_format="message",
            stream=True,
            incremental_output=incremental,
            max_tokens=9,
        )
    )
    assert len(events) > 1 and all(e.status_code == 200 for e in events)
    texts = [e.output.choices[0].message.content for e in events]
    full = " ".join((["hello", "there"] * 5)[:9])
    assert ("".join(texts) if incremental else texts[-1]) == full
    assert events[-1].output.choices[0].finish_reason == "length"
    assert events[-1].usage.output_tokens == 9


def test_native_sse_on_the_wire(sb: RunningSandbox) -> None:
    code = deploy(sb, MU_BODY)
    body = {"model": code, "input": {"messages": HELLO}, "parameters": {"max_tokens": 3}}
    answer = sb.http.post(NATIVE, json=body, headers={"X-DashScope-SSE": "enable"})
    assert answer.headers["content-type"].startswith("text/event-stream")
    lines = answer.text.splitlines()
    assert lines[:3] == ["id:1", "event:result", ":HTTP_STATUS/200"]
    last = json.loads([line for line in lines if line.startswith("data:")][-1][5:])
    assert last["output"] == {"text": "hello there hello", "finish_reason": "length"}
    assert set(last) == {"request_id", "output", "usage"}


def test_native_ptu_overflow_and_admission(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START)
    code = deploy(sb, PTU_RESERVATION_BODY)  # 1 kTPM out
    body = {"model": code, "input": {"messages": HELLO}, "parameters": {"max_tokens": 600}}
    first, second = sb.http.post(NATIVE, json=body), sb.http.post(NATIVE, json=body)
    assert first.status_code == second.status_code == 200
    assert first.headers.get(OVERFLOW_HEADER) is None
    assert second.headers[OVERFLOW_HEADER] == "true"
    (row,) = usage_rows(sb, code)
    assert (row["requests"], row["overflow_requests"], row["overflow_output_tokens"]) == (2, 1, 600)


def test_native_errors_keep_native_codes(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START, ptu_overflow=False)
    code = deploy(sb, PTU_RESERVATION_BODY)
    missing = generation(sb, model="qwen3-32b-none", messages=HELLO)
    assert (missing.status_code, missing.code) == (404, "ModelNotFound")
    assert (
        missing.message
        == "The model qwen3-32b-none does not exist or you do not have access to it."
    )
    bad_key: Any = Generation.call(
        api_key="sk-no", base_address=sb.base_url, model=code, prompt="hi"
    )
    assert (bad_key.status_code, bad_key.code) == (401, "InvalidApiKey")
    no_input = sb.http.post(NATIVE, json={"model": code})
    assert (no_input.status_code, no_input.json()["code"]) == (400, "InvalidParameter")
    assert generation(sb, model=code, messages=HELLO, max_tokens=900).status_code == 200
    over = generation(sb, model=code, messages=HELLO, max_tokens=900)
    assert (over.status_code, over.code) == (429, "Throttling.AllocationQuota")
    assert over.message == "Allocated quota exceeded, please increase your quota limit."


def compat(sb: RunningSandbox, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=sb.compatible_url, max_retries=0)


def test_openai_sdk_plain_streaming_extra_body_and_raw_headers(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(start_time=MINUTE_START)
    code = deploy(sb, {**PTU_RESERVATION_BODY, "model_name": "qwen-plus-2025-12-01"})
    with compat(sb) as client:
        plain = client.chat.completions.create(model=code, messages=HELLO, max_tokens=3)
        assert plain.choices[0].message.content == "hello there hello"
        assert plain.usage is not None and plain.usage.completion_tokens == 3
        thinking = client.chat.completions.create(
            model=code,
            messages=HELLO,
            max_tokens=3,
            extra_body={"enable_thinking": True},
        )
        assert thinking.usage is not None and thinking.usage.completion_tokens_details is not None
        assert thinking.usage.completion_tokens_details.reasoning_tokens == 3
        chunks = list(
            client.chat.completions.create(
                model=code,
                messages=HELLO,
                max_tokens=4,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert chunks[-1].usage.total_tokens == 6
        raw = client.chat.completions.with_raw_response.create(
            model=code,
            messages=HELLO,
            max_tokens=990,
        )
        assert raw.headers.get(OVERFLOW_HEADER) == "true"  # over 1 kTPM out this minute


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("bad_body", 400, "invalid_request_error"),
        ("bad_key", 401, "invalid_api_key"),
        ("missing", 404, "model_not_found"),
        ("rate", 429, "limit_requests"),
        ("quota", 429, "insufficient_quota"),
        ("arrears", 400, "Arrearage"),
    ],
)
def test_compatible_mode_uses_the_compatible_codes(
    make_sandbox: MakeSandbox, setup: str, status: int, code: str
) -> None:
    sb = make_sandbox(start_time=MINUTE_START, ptu_overflow=False, rate_limit_models=["qwen3-32b"])
    model = "qwen3-32b-none"
    kwargs: dict[str, Any] = {"messages": HELLO}
    key = KEY
    if setup == "bad_body":
        model = deploy(sb, MU_BODY)
        kwargs["max_tokens"] = 0
    elif setup == "bad_key":
        key = "sk-wrong"
    elif setup == "rate":
        model = deploy(sb, {**MU_BODY, "rpm_limit": 1})
        sb.http.post(
            "/compatible-mode/v1/chat/completions", json={"model": model, "messages": HELLO}
        )
    elif setup == "quota":
        model = deploy(sb, PTU_RESERVATION_BODY)
        kwargs["max_tokens"] = 2000
    elif setup == "arrears":
        model = deploy(sb, MU_BODY)
        assert sb.http.put("/_sandbox/arrears", json={"overdue": True}).status_code == 200
    with compat(sb, key) as client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=model, **kwargs)
    assert info.value.status_code == status
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == code
    raw = httpx.post(
        f"{sb.compatible_url}/chat/completions",
        json={"model": model, **kwargs},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert set(raw.json()["error"]) == {"message", "type", "param", "code"}
