"""Fault injection as ASGI middleware: latency, 5xx, 429 with Retry-After, dropped connections.

Rules come from :class:`FaultRule` (config, or replaced at run time). A fault with
``after_handler`` lets the request be processed first, then delays, fails or drops the answer:
that is how a client sees a timeout for a create the sandbox did accept. Waits end early when the
client hangs up, so a server never lingers on an abandoned request. Admin paths are never faulted.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from modeldeck.sandbox.config import FaultRule

if TYPE_CHECKING:
    from modeldeck.sandbox.engine import Sandbox

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/_sandbox"
_DEFAULT_CODES = {500: "InternalError", 503: "ModelServingError"}


class FaultInjector:
    """Wraps the sandbox app and applies the sandbox's current fault rules."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.rng = random.Random(sandbox.config.seed)

    def pick(self, method: str, path: str) -> list[FaultRule]:
        """The HTTP rules that fire for this request (counting their hits); `operation_failed`
        rules are the engine's."""
        fired = []
        with self.sandbox.store.lock:
            for index, rule in enumerate(self.sandbox.faults):
                if rule.kind == "operation_failed" or not rule.matches(method, path):
                    continue
                hits = self.sandbox.fault_hits.get(index, 0)
                if rule.times is not None and hits >= rule.times:
                    continue
                if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                    continue
                self.sandbox.fault_hits[index] = hits + 1
                fired.append(rule)
        return fired

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX) or not self.sandbox.faults:
            await self.app(scope, receive, send)
            return
        rules = self.pick(scope["method"], path)
        if not rules:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replay(body, receive)
        for rule in (r for r in rules if not r.after_handler):
            if rule.kind == "latency":
                if await _wait_or_hangup(rule.latency_seconds, receive):
                    return
            else:
                await _fail(rule, path, send)
                return
        after = [r for r in rules if r.after_handler]
        if not after:
            await self.app(scope, replay, send)
            return
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, replay, capture)
        for rule in after:
            if rule.kind == "latency":
                if await _wait_or_hangup(rule.latency_seconds, receive):
                    return
            else:
                await _fail(rule, path, send)
                return
        for message in captured:
            await send(message)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _wait_or_hangup(seconds: float, receive: Receive) -> bool:
    """Wait `seconds`; True if the client disconnected first."""
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    listener = asyncio.ensure_future(receive())
    done, _pending = await asyncio.wait({sleeper, listener}, return_when=asyncio.FIRST_COMPLETED)
    for task in (sleeper, listener):
        if task not in done:
            task.cancel()
    if listener in done:
        message = listener.result()
        return bool(message.get("type") == "http.disconnect")
    return False


async def _fail(rule: FaultRule, path: str, send: Send) -> None:
    request_id = str(uuid.uuid4())
    if rule.kind == "drop":
        # Promise a body, send part of it, return: the server closes the connection mid-answer.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"256")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"request_id": "', "more_body": True})
        return
    headers = [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode())]
    if rule.kind == "throttle":
        status = 429
        code = rule.code or "Throttling"
        message = "Requests rate limit exceeded, please try again later"
        headers.append((b"retry-after", _retry_after(rule.retry_after_seconds).encode()))
    else:
        status = rule.status
        code = rule.code or _DEFAULT_CODES.get(status, "InternalError")
        message = (
            "An internal error has occurred, please try again later or contact service support."
        )
    if path.startswith("/compatible-mode"):
        payload: dict[str, Any] = {
            "error": {"message": message, "type": "server_error", "param": None, "code": code},
            "request_id": request_id,
        }
    else:
        payload = {"request_id": request_id, "code": code, "message": message}
    data = json.dumps(payload).encode()
    headers.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _retry_after(seconds: float) -> str:
    """Whole seconds when whole; a fraction is a sandbox extension for fast tests."""
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"
