"""The sandbox driven by clients nobody here wrote: the official `openai` and `dashscope` SDKs.

The OpenAI SDK calls a deployment through compatible mode (plain, streamed with usage, with
`extra_body`, and raw headers for PTU overflow); the DashScope SDK calls the native generation
endpoint (`Generation.call`, plain and streamed) and its deployments API where it can.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import dashscope
import pytest
from dashscope import Generation
from dashscope.api_entities.dashscope_response import GenerationResponse, Message
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from modeldeck.domain import DeploySpec
from modeldeck.provider import ModelStudioClient, build_create_body
from modeldeck.sandbox.config import DEFAULT_API_KEY
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MakeSandbox

PROMPT = "Say hello to the sandbox in a few words."
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
# The native API takes plain dicts (dashscope's Message is one). Typed Any because dashscope's
# annotation of Generation.call names a `dashscope.Message` mypy cannot match to that class.
NATIVE_MESSAGES: Any = [Message(role="user", content=PROMPT)]
MU = DeploySpec(model="qwen3-32b", plan="mu", units=1)
PTU = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
# A model with both modes: PTU is called in thinking mode per call.
HYBRID = DeploySpec(model="qwen-plus-2025-12-01", plan="ptu", input_tpm=100000, output_tpm=100000)


@pytest.fixture(params=["reservations", "legacy"])
def sb(request: pytest.FixtureRequest, make_sandbox: MakeSandbox) -> RunningSandbox:
    return make_sandbox(api_generation=request.param)


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[ModelStudioClient]:
    with sb.client(api_generation=sb.sandbox.config.api_generation) as c:
        yield c


@pytest.fixture
def openai_client(sb: RunningSandbox) -> Iterator[OpenAI]:
    with OpenAI(base_url=sb.compatible_url, api_key=DEFAULT_API_KEY, max_retries=0) as c:
        yield c


@pytest.fixture
def native(sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the DashScope SDK's global base URL at the sandbox (restored after the test)."""
    monkeypatch.setattr(dashscope, "base_http_api_url", sb.base_url)
    return DEFAULT_API_KEY


def running(sb: RunningSandbox, client: ModelStudioClient, spec: DeploySpec, key: str) -> str:
    info = client.create_deployment(build_create_body(spec), idempotency_key=key)
    sb.wait_for_status(client, info.deployed_model, "RUNNING")
    return info.deployed_model


def test_openai_sdk_plain_call(
    sb: RunningSandbox, client: ModelStudioClient, openai_client: OpenAI
) -> None:
    code = running(sb, client, MU, "sdk-plain")
    answer = openai_client.chat.completions.create(
        model=code,
        messages=MESSAGES,
        max_tokens=20,
    )
    assert answer.choices[0].message.content
    assert answer.usage is not None and answer.usage.prompt_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_openai_sdk_stream_with_usage_in_a_last_empty_chunk(
    sb: RunningSandbox, client: ModelStudioClient, openai_client: OpenAI
) -> None:
    code = running(sb, client, MU, "sdk-stream")
    chunks = list(
        openai_client.chat.completions.create(
            model=code,
            messages=MESSAGES,
            max_tokens=20,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_openai_sdk_extra_body_enables_thinking(
    sb: RunningSandbox, client: ModelStudioClient, openai_client: OpenAI
) -> None:
    code = running(sb, client, HYBRID, "sdk-think")
    plain = openai_client.chat.completions.create(
        model=code,
        messages=MESSAGES,
        max_tokens=50,
    )
    thinking = openai_client.chat.completions.create(
        model=code,
        messages=MESSAGES,
        max_tokens=50,
        extra_body={"enable_thinking": True},
    )
    reasoning = _reasoning_tokens(thinking.usage)
    assert reasoning > 0 and _reasoning_tokens(plain.usage) == 0


def test_openai_sdk_raw_response_shows_ptu_overflow(
    sb: RunningSandbox, client: ModelStudioClient, openai_client: OpenAI
) -> None:
    code = running(sb, client, PTU, "sdk-overflow")
    within = openai_client.chat.completions.with_raw_response.create(
        model=code,
        messages=MESSAGES,
        max_tokens=10,
    )
    assert within.headers.get("x-dashscope-ptu-overflow") in (None, "false")
    over = openai_client.chat.completions.with_raw_response.create(
        model=code,
        messages=MESSAGES,
        max_tokens=1500,  # beyond the 1,000 output tokens per minute purchased
    )
    assert over.headers.get("x-dashscope-ptu-overflow") == "true"
    assert over.parse().usage is not None


def test_dashscope_generation_call_plain(
    sb: RunningSandbox, client: ModelStudioClient, native: str
) -> None:
    code = running(sb, client, MU, "sdk-native")
    answer: Any = Generation.call(
        model=code, messages=NATIVE_MESSAGES, result_format="message", api_key=native
    )
    assert answer.status_code == 200, answer
    assert answer.output.choices[0].message.content
    assert answer.usage.input_tokens > 0 and answer.usage.output_tokens > 0


def test_dashscope_generation_call_streamed(
    sb: RunningSandbox, client: ModelStudioClient, native: str
) -> None:
    code = running(sb, client, MU, "sdk-native-sse")
    # dashscope annotates call() as "a response or a generator" whatever `stream` is; with
    # stream=True it is always the generator.
    streamed = cast(
        Iterator[GenerationResponse],
        Generation.call(
            model=code,
            messages=NATIVE_MESSAGES,
            result_format="message",
            stream=True,
            incremental_output=True,
            api_key=native,
        ),
    )
    parts = list(streamed)
    assert parts and all(p.status_code == 200 for p in parts), parts[-1]
    pieces = [p.output.choices[0].message.content for p in parts if p.output.choices]
    text = "".join(piece for piece in pieces if isinstance(piece, str))
    assert text
    assert parts[-1].usage.output_tokens > 0


def test_dashscope_sdk_deployments_list_get_scale_delete(
    sb: RunningSandbox, client: ModelStudioClient, native: str
) -> None:
    """The SDK's own deployments calls on a deployment modeldeck made, each answered in the
    shape the SDK parses."""
    code = running(sb, client, MU, "sdk-deployments")
    listed: Any = dashscope.Deployments.list(api_key=native)
    assert listed.status_code == 200, listed
    assert code in [d.deployed_model for d in listed.output.deployments]
    got: Any = dashscope.Deployments.get(code, api_key=native)
    assert got.status_code == 200 and got.output.status == "RUNNING"
    scaled: Any = dashscope.Deployments.scale(code, capacity=2, api_key=native)
    assert scaled.status_code == 200 and scaled.output.capacity == 2, scaled
    deleted: Any = dashscope.Deployments.delete(code, api_key=native)
    assert deleted.status_code == 200, deleted
    assert client.get_deployment(code).status in ("DELETING", "OFFLINING")


def test_dashscope_sdk_create(sb: RunningSandbox, client: ModelStudioClient, native: str) -> None:
    """The SDK's MU create sends `template_id` (the deploy spec) and no billing_method."""
    # dashscope's `version: str = None` reads to mypy as a required argument; the SDK defaults it.
    deployments: Any = dashscope.Deployments
    created: Any = deployments.call(
        model="qwen3-32b", capacity=1, suffix="sdk1", plan="mu", template_id="MU1", api_key=native
    )
    assert created.status_code == 200, created
    assert created.output.deployed_model == "qwen3-32b-sdk1"
    assert client.get_deployment("qwen3-32b-sdk1").status in ("PENDING", "RUNNING")


def _reasoning_tokens(usage: Any) -> int:
    details = getattr(usage, "completion_tokens_details", None)
    return int(getattr(details, "reasoning_tokens", 0) or 0)
