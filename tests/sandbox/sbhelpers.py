"""Request bodies and helpers shared by the sandbox tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.sandbox.testing import RunningSandbox

MakeSandbox = Callable[..., RunningSandbox]

PTU_BODY: dict[str, Any] = {
    "model_name": "qwen3-max-2025-09-23",
    "plan": "ptu",
    "capacity": 1,
    "ptu_capacity": {"input_tpm": 10000, "output_tpm": 1000},
}
MU_BODY: dict[str, Any] = {
    "model_name": "qwen3-32b",
    "plan": "mu",
    "capacity": 2,
    "deploy_spec": "MU1",
    "billing_method": "POST_PAY",
}


def sse_events(text: str) -> list[Any]:
    """The JSON payloads of a server-sent event stream, up to `[DONE]` (which must be there)."""
    import json

    events: list[Any] = []
    done = False
    for line in text.splitlines():
        if not line.startswith("data: "):
            continue
        payload = line[len("data: ") :]
        if payload == "[DONE]":
            done = True
            break
        events.append(json.loads(payload))
    assert done, "the stream must end with data: [DONE]"
    return events
