"""Calling a deployed model in the sandbox: deterministic answers, real `usage`, PTU and MU limits.

Token count (documented, simple, deterministic): one token per run of letters/digits, per CJK
character and per punctuation mark; an image part counts 64 tokens. `prompt_tokens` is the sum
over all messages' contents. The answer echoes the last user message's tokens, cycled, to
exactly `max_tokens` tokens (finish_reason ``length``) or ``default_completion_tokens`` when
`max_tokens` is absent (finish_reason ``stop``). In thinking mode the reasoning has as many tokens
again, counted in `completion_tokens` and in `completion_tokens_details.reasoning_tokens`.

PTU admission is per virtual minute against the purchased input and output TPM: a call that does
not fit, or whose input exceeds the model's max input tokens, overflows (served, header
``x-dashscope-ptu-overflow: true``, not counted against the window) or, with overflow disabled, is
refused with 429. MU deployments enforce `rpm_limit` / `tpm_limit` per minute (429
``Throttling.RateQuota``).
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from itertools import cycle, islice
from typing import TYPE_CHECKING, Any

from modeldeck.sandbox.common import ARREARAGE, Caller, SandboxError

if TYPE_CHECKING:
    from modeldeck.sandbox.engine import Sandbox

_CJK = "\u3400-\u9fff\uf900-\ufaff"
TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
IMAGE_TOKENS = 64
OVERFLOW_HEADER = "x-dashscope-ptu-overflow"
SERVING = frozenset({"RUNNING", "UPDATING"})


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """The sandbox's token count of a text (see the module docstring)."""
    return len(tokenize(text))


def content_tokens(content: Any) -> tuple[list[str], int]:
    """Text tokens of a message content (string or parts) and extra tokens for images."""
    if isinstance(content, str):
        return tokenize(content), 0
    tokens: list[str] = []
    extra = 0
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                tokens.extend(tokenize(part["text"]))
            elif part.get("type") in {"image_url", "image", "input_image", "video_url"}:
                extra += IMAGE_TOKENS
    return tokens, extra


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """Prompt tokens of a chat: the sum over every message's content."""
    total = 0
    for message in messages:
        tokens, extra = content_tokens(message.get("content"))
        total += len(tokens) + extra
    return total


@dataclass
class Window:
    """What one deployment used in one virtual minute (only calls counted against capacity)."""

    minute: float
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class UsageRow:
    """Per deployment per minute: everything served, overflowed or refused."""

    minute: float
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    overflow_requests: int = 0
    overflow_input_tokens: int = 0
    overflow_output_tokens: int = 0
    throttled_requests: int = 0


@dataclass
class Meter:
    """Admission windows and usage rows, in memory (they are per minute, not state to keep)."""

    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    usage: dict[tuple[str, str], dict[float, UsageRow]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def window(self, key: tuple[str, str], minute: float) -> Window:
        current = self.windows.get(key)
        if current is None or current.minute != minute:
            current = self.windows[key] = Window(minute)
        return current

    def row(self, key: tuple[str, str], minute: float) -> UsageRow:
        rows = self.usage.setdefault(key, {})
        if minute not in rows:
            rows[minute] = UsageRow(minute)
        return rows[minute]

    def rows(self, workspace: str, deployed_model: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.usage.get((workspace, deployed_model), {})
            return [asdict(rows[m]) for m in sorted(rows)]


@dataclass
class ChatReply:
    """A successful chat answer: headers and either one body or SSE chunks."""

    headers: dict[str, str]
    body: dict[str, Any] | None = None
    chunks: list[dict[str, Any]] | None = None


def compat_invalid(message: str, param: str | None = None) -> SandboxError:
    """400 `InvalidParameter` (the compatible endpoint maps it to `invalid_request_error`)."""
    return SandboxError(400, "InvalidParameter", message, param=param)


@dataclass
class Served:
    """One admitted call: the tokens of its answer and reasoning, and how it was served."""

    code: str
    prompt: int
    answer: list[str]
    reasoning: list[str]
    finish: str
    overflow: bool
    provisioned: bool
    now: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def completion(self) -> int:
        return len(self.answer) + len(self.reasoning)

    @property
    def headers(self) -> dict[str, str]:
        headers = {"x-request-id": self.request_id}
        if self.overflow:
            headers[OVERFLOW_HEADER] = "true"
        return headers


_OVER_CAPACITY_TEXT = {
    "Throttling.AllocationQuota": "Allocated quota exceeded, please increase your quota limit.",
    "Throttling.RateQuota": "Requests rate limit exceeded, please try again later",
}


def serve(
    sandbox: Sandbox,
    caller: Caller,
    code: str,
    messages: list[dict[str, Any]],
    max_tokens: Any,
    enable_thinking: Any,
) -> Served:
    """Admit and meter one call to a deployed Model Code (native error codes on refusal)."""
    found = sandbox.lookup(caller.workspace, code)
    if found is None or found[1] == "DELETING":
        raise SandboxError(
            404,
            "ModelNotFound",
            f"The model {code} does not exist or you do not have access to it.",
        )
    data, status = found
    if status == "ARREARS_DOWN":
        raise SandboxError(400, "Arrearage", ARREARAGE)
    if status not in SERVING:
        raise SandboxError(
            503,
            "ModelServingError",
            f"Deployed model {code} is {status} and cannot serve requests.",
        )
    model = sandbox.models[data["model_name"]]
    prompt = prompt_tokens(messages)
    if prompt < 1:
        raise compat_invalid(
            f"Range of input length should be [1, {model.max_input_tokens}]", "messages"
        )
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        raise compat_invalid(
            f"Invalid max_tokens ({max_tokens}), it must be 1 or more.", "max_tokens"
        )
    answer_len = max_tokens or sandbox.config.default_completion_tokens
    thinking = _thinking(model.instruct, model.thinking, data, enable_thinking)
    reasoning_len = answer_len if thinking else 0
    completion = answer_len + reasoning_len

    now = sandbox.clock.now()
    minute = math.floor(now / 60) * 60
    retry_after = sandbox.clock.real_seconds(minute + 60 - now)
    key = (caller.workspace, code)
    overflow = False
    with sandbox.meter.lock:
        usage = sandbox.meter.row(key, minute)
        window = sandbox.meter.window(key, minute)
        if data["plan"] == "ptu":
            cap = sandbox.ptu_tpm(data)
            out_cap = cap["output_tpm"]
            if thinking and cap.get("thinking_output_tpm"):
                out_cap = cap["thinking_output_tpm"]
            overflow = (
                prompt > model.max_input_tokens
                or window.input_tokens + prompt > cap["input_tpm"]
                or window.output_tokens + completion > out_cap
            )
            if overflow and data.get("overflow_strategy") != "enable":
                usage.throttled_requests += 1
                over = sandbox.config.ptu_over_capacity_code
                raise SandboxError(
                    429,
                    over,
                    _OVER_CAPACITY_TEXT[over],
                    headers={"Retry-After": _seconds(retry_after)},
                )
        else:
            limit = data.get("max_context_length") or model.max_context_tokens
            if prompt > limit:
                raise compat_invalid(f"Range of input length should be [1, {limit}]", "messages")
            rpm, tpm = data.get("rpm_limit"), data.get("tpm_limit")
            over_rpm = rpm is not None and window.requests + 1 > rpm
            over_tpm = tpm is not None and (
                window.input_tokens + window.output_tokens + prompt + completion > tpm
            )
            if over_rpm or over_tpm:
                usage.throttled_requests += 1
                what = "Requests" if over_rpm else "Tokens"
                raise SandboxError(
                    429,
                    "Throttling.RateQuota",
                    f"{what} rate limit exceeded, please try again later.",
                    headers={"Retry-After": _seconds(retry_after)},
                )
        if not overflow:
            window.requests += 1
            window.input_tokens += prompt
            window.output_tokens += completion
        usage.requests += 1
        usage.input_tokens += prompt
        usage.output_tokens += completion
        usage.reasoning_tokens += reasoning_len
        if overflow:
            usage.overflow_requests += 1
            usage.overflow_input_tokens += prompt
            usage.overflow_output_tokens += completion

    words = _last_user_tokens(messages)
    return Served(
        code=code,
        prompt=prompt,
        answer=list(islice(cycle(words), answer_len)),
        reasoning=list(islice(cycle(["thinking", "about", *words]), reasoning_len)),
        finish="length" if max_tokens else "stop",
        overflow=overflow,
        provisioned=data["plan"] == "ptu" and not overflow,
        now=now,
    )


def _messages(value: Any) -> list[dict[str, Any]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in value)
    ):
        raise compat_invalid("messages must be a non-empty list of {role, content}.", "messages")
    return value


def chat(sandbox: Sandbox, caller: Caller, body: Any) -> ChatReply:
    """`POST /compatible-mode/v1/chat/completions` for a deployed Model Code."""
    if not isinstance(body, dict):
        raise compat_invalid("The request body must be a JSON object.")
    code = body.get("model")
    if not isinstance(code, str) or not code:
        raise compat_invalid("model is required: the deployed Model Code.", "model")
    messages = _messages(body.get("messages"))
    max_tokens = body.get("max_tokens")
    served = serve(sandbox, caller, code, messages, max_tokens, body.get("enable_thinking"))
    reasoning_len = len(served.reasoning)
    usage_body: dict[str, Any] = {
        "prompt_tokens": served.prompt,
        "completion_tokens": served.completion,
        "total_tokens": served.prompt + served.completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning_len},
    }
    if served.provisioned:
        usage_body["prompt_tokens_details"]["provisioned_tokens"] = served.prompt
        usage_body["completion_tokens_details"]["provisioned_tokens"] = served.completion
    base = {
        "id": f"chatcmpl-{served.request_id}",
        "created": int(served.now),
        "model": code,
        "system_fingerprint": None,
    }
    if served.provisioned:
        base["service_tier"] = "ptu-standard"
    answer, reasoning, finish = served.answer, served.reasoning, served.finish
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        chunks = _chunks(base, answer, reasoning, finish, usage_body if include_usage else None)
        return ChatReply(headers=served.headers, chunks=chunks)
    message: dict[str, Any] = {"role": "assistant", "content": " ".join(answer)}
    if reasoning:
        message["reasoning_content"] = " ".join(reasoning)
    reply = {
        **base,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage_body,
    }
    return ChatReply(headers=served.headers, body=reply)


def generation(sandbox: Sandbox, caller: Caller, body: Any, *, stream: bool) -> ChatReply:
    """Native `POST /api/v1/services/aigc/text-generation/generation` (`dashscope.Generation`).

    Body ``{model, input: {messages | prompt}, parameters: {result_format, enable_thinking,
    max_tokens, incremental_output}}``; the answer ``{request_id, output, usage}`` with
    ``output.choices`` (``result_format: message``) or ``output.text`` (``text``, the default).
    Streamed events carry the whole text so far unless ``incremental_output`` is true.
    """
    if not isinstance(body, dict):
        raise compat_invalid("The request body must be a JSON object.")
    code = body.get("model")
    if not isinstance(code, str) or not code:
        raise compat_invalid("Model not specified: send model, the deployed Model Code.", "model")
    given = body.get("input")
    if not isinstance(given, dict):
        raise compat_invalid("input is required: {messages: [...]} or {prompt: ...}.", "input")
    if given.get("messages") is not None:
        messages = _messages(given["messages"])
    elif isinstance(given.get("prompt"), str):
        messages = [{"role": "user", "content": given["prompt"]}]
    else:
        raise compat_invalid("input must carry messages or prompt.", "input")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise compat_invalid("parameters must be an object.", "parameters")
    result_format = params.get("result_format", "text")
    if result_format not in ("text", "message"):
        raise compat_invalid(
            f"Invalid result_format ({result_format}), it must be text or message.",
            "result_format",
        )
    served = serve(
        sandbox, caller, code, messages, params.get("max_tokens"), params.get("enable_thinking")
    )
    usage: dict[str, Any] = {
        "input_tokens": served.prompt,
        "output_tokens": served.completion,
        "total_tokens": served.prompt + served.completion,
    }
    if served.reasoning:
        usage["output_tokens_details"] = {"reasoning_tokens": len(served.reasoning)}

    def output(text: str, reasoning: str, finish: str) -> dict[str, Any]:
        if result_format == "text":
            return {"text": text, "finish_reason": finish}
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if served.reasoning:
            message["reasoning_content"] = reasoning
        return {"choices": [{"finish_reason": finish, "message": message}]}

    full_text, full_reasoning = " ".join(served.answer), " ".join(served.reasoning)
    if not stream:
        reply = {
            "request_id": served.request_id,
            "output": output(full_text, full_reasoning, served.finish),
            "usage": usage,
        }
        return ChatReply(headers=served.headers, body=reply)
    incremental = bool(params.get("incremental_output"))
    r, a = served.reasoning, served.answer
    steps = [(" ".join(r[:i]), "") for i in range(4, len(r), 4)]
    steps += [(full_reasoning, " ".join(a[:i])) for i in range(4, len(a), 4)]
    steps.append((full_reasoning, full_text))
    events = []
    shown_r = shown_a = ""
    for index, (reasoning, text) in enumerate(steps):
        finish = served.finish if index == len(steps) - 1 else "null"
        if incremental:
            out = output(text[len(shown_a) :], reasoning[len(shown_r) :], finish)
            shown_r, shown_a = reasoning, text
        else:
            out = output(text, reasoning, finish)
        events.append({"request_id": served.request_id, "output": out, "usage": usage})
    return ChatReply(headers=served.headers, chunks=events)


def _thinking(instruct: bool, thinking: bool, data: dict[str, Any], asked: Any) -> bool:
    if not thinking:
        return False
    if not instruct:
        return True
    return asked if isinstance(asked, bool) else bool(data.get("enable_thinking"))


def _last_user_tokens(messages: list[dict[str, Any]]) -> list[str]:
    for message in reversed(messages):
        if message.get("role") == "user":
            tokens, _ = content_tokens(message.get("content"))
            if tokens:
                return tokens
    return ["ok"]


def _pieces(tokens: list[str], size: int = 4) -> list[str]:
    """Stream pieces that concatenate to exactly ``" ".join(tokens)``."""
    pieces = []
    for i in range(0, len(tokens), size):
        text = " ".join(tokens[i : i + size])
        pieces.append(text if i == 0 else f" {text}")
    return pieces


def _chunks(
    base: dict[str, Any],
    answer: list[str],
    reasoning: list[str],
    finish: str,
    usage: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    chunk = {**base, "object": "chat.completion.chunk"}
    extra = {"usage": None} if usage is not None else {}

    def delta(d: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": d, "finish_reason": finish_reason, "logprobs": None}
        return {**chunk, "choices": [choice], **extra}

    out = [delta({"role": "assistant", "content": ""})]
    out += [delta({"reasoning_content": piece}) for piece in _pieces(reasoning)]
    out += [delta({"content": piece}) for piece in _pieces(answer)]
    out.append(delta({}, finish))
    if usage is not None:
        out.append({**chunk, "choices": [], "usage": usage})
    return out


def _seconds(value: float) -> str:
    """A Retry-After value: whole seconds, at least 1 (until the minute window turns)."""
    return str(max(1, math.ceil(value)))
