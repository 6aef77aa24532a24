"""Metering for any httpx-based SDK: an httpx transport that records the chat completions sent
through it, e.g. the official OpenAI SDK pointed at Model Studio's compatible mode:

    meter = MeteredClient(base_url, api_key, store=store)
    sdk = openai.OpenAI(base_url=meter.base_url, api_key=key,
                        http_client=httpx.Client(transport=MeteredTransport(meter)))

Each `POST …/chat/completions` is journaled by the client's recorder exactly as
`MeteredClient.chat` journals it (usage, overflow header, status, latency); other requests pass
through untouched. A streamed completion through the transport is refused (ValidationFailed,
use `MeteredClient.stream_chat`): reading usage from a stream the SDK consumes is not done
here, and a call must never go unmetered silently.
"""

from __future__ import annotations

import json
from time import perf_counter
from typing import Any

import httpx

from modeldeck.errors import ValidationFailed
from modeldeck.metering.client import MeteredClient, _text
from modeldeck.metering.records import NO_RESPONSE, RAW_VERSION, scan_headers, usage_list


class MeteredTransport(httpx.BaseTransport):
    """Records each chat completion sent through it with `meter`'s recorder and lookup."""

    def __init__(self, meter: MeteredClient, inner: httpx.BaseTransport | None = None) -> None:
        self.meter = meter
        self.inner = inner or httpx.HTTPTransport(limits=meter.limits)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return self.inner.handle_request(request)
        try:
            body: Any = json.loads(request.content)
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str):
            return self.inner.handle_request(request)  # refused by the server, not a call
        if body.get("stream"):
            raise ValidationFailed(
                "A streamed chat completion through MeteredTransport would not be metered.",
                hint="Use MeteredClient.stream_chat for streams, or stream=False here.",
            )
        meter = self.meter
        model_mode = meter.lookup(model)
        call_id, at, started = meter._begin()
        try:
            response = self.inner.handle_request(request)
            response.read()
        except httpx.HTTPError as exc:
            err = meter._transport_error(exc)
            meter._record(
                call_id=call_id, deployed_model=model, model_mode=model_mode, at=at,
                started=started, status_code=NO_RESPONSE, headers=None, usage=None,
                request_id=None, error=meter._error_text(err),
            )  # fmt: skip
            raise
        status, headers = response.status_code, response.headers
        if status >= 400:
            err = meter._http_error(status, headers, response.content)
            meter._record(
                call_id=call_id, deployed_model=model, model_mode=model_mode, at=at,
                started=started, status_code=status, headers=headers, usage=None,
                request_id=err.request_id, error=meter._error_text(err),
            )  # fmt: skip
            return response
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        usage = data.get("usage") if isinstance(data, dict) else None
        request_id, overflow = scan_headers(headers)
        if request_id is None and isinstance(data, dict):
            request_id = _text(data.get("request_id")) or _text(data.get("id"))
        meter.recorder.record_entry(
            [
                RAW_VERSION, call_id, model, at, status, model_mode[0], model_mode[1],
                request_id, usage_list(usage), overflow,
                int((perf_counter() - started) * 1_000_000), None,
            ]
        )  # fmt: skip
        return response

    def close(self) -> None:
        self.inner.close()
