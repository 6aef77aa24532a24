"""A fake of Slack's Socket Mode websocket: says hello, sends envelopes, records the acks.

Served by aiohttp on 127.0.0.1 in its own thread (uvicorn here has no websocket library).
Attach it to a `FakeSlack` so `apps.connections.open` hands out its URL.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any

from aiohttp import WSMsgType, web

from modeldeck.serving import free_port
from tests.slack.fake_slack import FakeSlack


class FakeSocketMode:
    """One Socket Mode endpoint; `send()` pushes an envelope to the connected app."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.port = free_port()
        self.acks: list[dict[str, Any]] = []
        self.connections = 0
        self._ws: web.WebSocketResponse | None = None
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        self.slack.socket_url = self.url
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.slack.socket_url = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        with self._cond:
            self._ws = ws
            self.connections += 1
            self._cond.notify_all()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                with self._cond:
                    self.acks.append(json.loads(msg.data))
                    self._cond.notify_all()
        return ws

    def wait_connected(self, timeout: float = 15.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._ws is not None, timeout):
                raise AssertionError("the app never connected over Socket Mode")

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Push an envelope (`slash_commands`, `interactive`, `events_api`); return its id."""
        envelope_id = f"env-{next(self._seq)}-{int(time.time())}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        assert self._ws is not None, "not connected"
        ws = self._ws
        asyncio.run_coroutine_threadsafe(ws.send_json(envelope), self._loop).result(10)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 15.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((a for a in self.acks if a.get("envelope_id") == envelope_id), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no ack for {envelope_id}; acks: {self.acks}")
            ack = found()
        assert ack is not None
        return ack
