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


# The documented reservations-generation PTU create: no `capacity`, `charge_type` required,
# `ptu_capacity` in kTPM (10 kTPM in = 10,000 tokens per minute).
PTU_RESERVATION_BODY: dict[str, Any] = {
    "model_name": "qwen3-max-2025-09-23",
    "plan": "ptu",
    "charge_type": "post_paid",
    "ptu_capacity": {"input_tpm": 10, "output_tpm": 1},
}
PREPAID_INFO: dict[str, Any] = {"duration": 3, "auto_renewal": False}


def call(sb: RunningSandbox, method: str, path: str, **kwargs: Any) -> Any:
    """One raw HTTP call to the deployments API (`path` after `/api/v1`); the answer."""
    return sb.http.request(method, f"/api/v1{path}", **kwargs)


def ok(sb: RunningSandbox, method: str, path: str, **kwargs: Any) -> Any:
    """A raw call that must answer 200; its `output`."""
    answer = call(sb, method, path, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()["output"]


def refused(sb: RunningSandbox, method: str, path: str, status: int, code: str, **kw: Any) -> str:
    """A raw call that must be refused with `status` and native `code`; its message."""
    answer = call(sb, method, path, **kw)
    body = answer.json()
    assert (answer.status_code, body.get("code")) == (status, code), answer.text
    assert set(body) == {"request_id", "code", "message"}
    return str(body["message"])


def settle(sb: RunningSandbox, seconds: float = 60.0) -> None:
    """Move the sandbox clock on so that every pending status or operation has finished."""
    sb.sandbox.advance(seconds)


def wait_status(sb: RunningSandbox, code: str, status: str, timeout: float = 20.0) -> Any:
    """Poll a deployment over raw HTTP until it has `status`; its last view."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        view = ok(sb, "GET", f"/deployments/{code}")
        if view["status"] == status:
            return view
        assert time.monotonic() < deadline, f"{code} did not reach {status}: {view['status']}"
        time.sleep(0.05)


def deploy(sb: RunningSandbox, body: dict[str, Any]) -> str:
    """Create over raw HTTP and wait until the deployment RUNS; its ModelCode."""
    code = str(ok(sb, "POST", "/deployments", json=body)["deployed_model"])
    wait_status(sb, code, "RUNNING")
    return code
