"""ASGI middleware in front of every route (the API, `/metrics`, plugin mounts such as Slack).

- `BodySizeLimit`: refuses a body over `server.max_body_bytes` with 413 before any route reads it.
- `HostCheck`: refuses a `Host:` header that is not one of the server's names with 400, so a web
  page cannot reach a loopback server through DNS rebinding.

Both answer with the API's JSON error body (`{"error": {"type", "message", "hint"}}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Paths a load balancer or orchestrator probes with whatever Host it likes (no data behind them).
HOST_EXEMPT_PATHS = ("/healthz",)


async def send_error(
    send: Send, status: int, error_type: str, message: str, hint: str | None = None
) -> None:
    """Answer with the API's JSON error body."""
    body = json.dumps({"error": {"type": error_type, "message": message, "hint": hint}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class BodySizeLimit:
    """Reads at most `limit` bytes of a request body; more is a 413 that names the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _too_large(self, send: Send) -> None:
        await send_error(
            send,
            413,
            "RequestTooLarge",
            f"The request body is larger than this server's limit of {self.limit} bytes.",
            "Send a smaller body, or raise [server] max_body_bytes "
            "(MODELDECK_SERVER__MAX_BODY_BYTES).",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    await self._too_large(send)
                    return
            except ValueError:
                await send_error(
                    send, 400, "UserError", "The Content-Length header is not a number."
                )
                return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:  # a chunked body without Content-Length is counted as it arrives
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.limit:
                await self._too_large(send)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def host_name(value: str) -> str:
    """The host of a `Host:` header value or a URL authority, lower-case, without the port."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8765
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def allowed_host_names(
    server_host: str, server_url: str | None, extra: Iterable[str]
) -> frozenset[str]:
    """Loopback names, the bound address (unless a wildcard), `server.url`'s host, and `extra`."""
    names = {*LOOPBACK_NAMES, *(host_name(h) for h in extra)}
    if server_host not in ("0.0.0.0", "::", ""):
        names.add(host_name(server_host))
    if server_url:
        hostname = urlsplit(server_url).hostname
        if hostname:
            names.add(hostname.lower())
    return frozenset(names)


class HostCheck:
    """Only `Host:` headers naming this server pass; `*` in the names turns the check off."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or "*" in self.names:
            await self.app(scope, receive, send)
            return
        if scope.get("path") in HOST_EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is not None and host_name(host) in self.names:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        shown = (host or "(none)")[:100]
        await send_error(
            send,
            400,
            "UserError",
            f"This server does not answer to the Host {shown!r}.",
            "Call it by one of its names, or add the name to [server] allowed_hosts "
            "(MODELDECK_SERVER__ALLOWED_HOSTS); server.url's host is allowed already.",
        )
