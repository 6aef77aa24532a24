"""Metered clients for a deployed model, OpenAI-compatible: every call is recorded, none slowed.

`MeteredClient` (sync) and `AsyncMeteredClient` call `POST <compatible-mode>/chat/completions`
with `model` = the deployed Model Code, return the parsed answer with its headers and overflow
flag, and hand one :class:`CallRecord` per call to a :class:`Recorder` (journaled before the call
returns, stored by a background writer). Errors are recorded, then raised as
:mod:`modeldeck.provider` errors. The API key never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from time import perf_counter
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from modeldeck.catalog import Catalog
from modeldeck.errors import ValidationFailed
from modeldeck.metering.lookup import CachedLookup, Lookup, ModelMode, StoreDeployments
from modeldeck.metering.records import (
    NO_RESPONSE,
    RAW_VERSION,
    CallRecord,
    decode_raw,
    epoch_us,
    overflow_flag,
    scan_headers,
    usage_list,
)
from modeldeck.metering.writer import Recorder
from modeldeck.provider.client import compatible_mode_url
from modeldeck.provider.errors import (
    ProviderError,
    make_error,
)
from modeldeck.provider.wire import (
    as_secret,
    auth_headers,
    error_from_answer,
    redact,
    transport_error,
)
from modeldeck.store import Store

COMPATIBLE_SUFFIX = "/compatible-mode/v1"
CALL_ID, REQUEST_ID, OVERFLOW = 1, 7, 9  # positions in a journal entry
ERROR_TEXT_LIMIT = 500


class _Lazy:
    """A journaled call whose priced record is built only if someone asks for it."""

    __slots__ = ("_line", "_record", "_recorder", "entry")

    def __init__(self, entry: list[Any], line: bytes, recorder: Recorder) -> None:
        self.entry = entry
        self._line = line
        self._recorder = recorder
        self._record: CallRecord | None = None

    @property
    def record(self) -> CallRecord:
        if self._record is None:
            self._record = self._recorder.pricer.build(decode_raw(self._line))
        return self._record


class _CallIds:
    """Call ids: a random 80-bit prefix per client and a counter (cheaper than a uuid4 each)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(10)
        self._next = itertools.count(1).__next__

    def __call__(self) -> str:
        return f"{self._prefix}{self._next():08x}"


class ChatResult:
    """A successful chat completion: the parsed JSON, the headers and the call's record.

    `record` (and `cost`) are built on first access, off the call path; the stored record is
    built the same way by the recorder's writer.
    """

    __slots__ = ("_entry", "data", "headers", "status_code")

    def __init__(
        self,
        data: dict[str, Any],
        headers: httpx.Headers,
        status_code: int,
        entry: _Lazy,
    ) -> None:
        self.data = data
        self.headers = headers
        self.status_code = status_code
        self._entry = entry

    def __repr__(self) -> str:
        return (
            f"ChatResult(call_id={self.call_id!r}, status_code={self.status_code}, "
            f"overflow={self.overflow})"
        )

    @property
    def record(self) -> CallRecord:
        """The call as recorded (tokens, overflow, latency, cost...)."""
        return self._entry.record

    @property
    def overflow(self) -> bool:
        """Served beyond the purchased TPM (`x-dashscope-ptu-overflow: true`)."""
        return bool(self._entry.entry[OVERFLOW])

    @property
    def call_id(self) -> str:
        return str(self._entry.entry[CALL_ID])

    @property
    def request_id(self) -> str | None:
        request_id = self._entry.entry[REQUEST_ID]
        return request_id if isinstance(request_id, str) else None

    @property
    def cost(self) -> Decimal | None:
        """PAYG cost of an overflow call; 0 within the reservation; None if not listed."""
        return self.record.cost

    @property
    def usage(self) -> dict[str, Any]:
        usage = self.data.get("usage")
        return usage if isinstance(usage, dict) else {}


class _SSE:
    """Server-sent events decoder for OpenAI-style streams (`data: {...}`, `data: [DONE]`)."""

    DONE = object()

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | object | None:
        """One line in; a parsed event, `DONE`, or None (event not complete yet)."""
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            return self.end()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def end(self) -> dict[str, Any] | object | None:
        """Dispatch a pending event (at a blank line or the end of the body)."""
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data = []
        if payload.strip() == "[DONE]":
            return self.DONE
        try:
            event = json.loads(payload)
        except ValueError:
            raise ProviderError(
                "The chat stream sent an event that is not JSON.", status_code=200
            ) from None
        return event if isinstance(event, dict) else {"data": event}


class _Core:
    """What the sync and async clients share: settings, lookups, pricing and recording."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        store: Store,
        deployments: Lookup | None,
        journal_dir: Path | None,
        catalog: Catalog | None,
        recorder: Recorder | None,
        workspace: str | None,
        timeout: float,
        max_connections: int,
        clock: Callable[[], datetime] | None,
        fsync_each_call: bool,
    ) -> None:
        if recorder is not None and catalog is not None:
            raise ValidationFailed(
                "Pass catalog= to the Recorder you share, not to the client: the recorder prices "
                "the calls it stores."
            )
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValidationFailed(
                f"The metered client's base URL {base_url!r} is not an http(s) URL.",
                hint="Use the Model Studio base URL (e.g. https://dashscope.aliyuncs.com/api/v1)"
                " or its compatible-mode URL (…/compatible-mode/v1).",
            )
        if max_connections < 1:
            raise ValidationFailed(f"max_connections must be 1 or more, not {max_connections}.")
        root = base_url.rstrip("/")
        self.base_url = root if root.endswith(COMPATIBLE_SUFFIX) else compatible_mode_url(root)
        self.chat_url = f"{self.base_url}/chat/completions"
        self._api_key: SecretStr | None = as_secret(api_key)
        self.workspace = workspace or None
        self.timeout = timeout
        self.limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._owns_recorder = recorder is None
        self.recorder = recorder or Recorder(
            store, journal_dir, catalog=catalog, fsync_each_call=fsync_each_call
        )
        self.lookup = CachedLookup(deployments or StoreDeployments(store))
        self._clock = clock
        self._ids = _CallIds()

    def _begin(self) -> tuple[str, int, float]:
        """A new call: its id, its start (epoch microseconds) and a perf_counter mark."""
        at = time.time_ns() // 1000 if self._clock is None else epoch_us(self._clock())
        return self._ids(), at, perf_counter()

    def __repr__(self) -> str:
        key = "'***'" if self._api_key is not None else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"

    def _headers(self) -> dict[str, str]:
        return auth_headers(self._api_key, self.workspace, user_agent="modeldeck-metering")

    def _redact(self, text: str) -> str:
        return redact(text, self._api_key)

    @staticmethod
    def _payload(
        model: str, messages: list[dict[str, Any]], extra: dict[str, Any], *, stream: bool
    ) -> dict[str, Any]:
        if not isinstance(model, str) or not model.strip():
            raise ValidationFailed(
                "model must be the deployed Model Code (e.g. qwen-plus-2025-12-01-abc123), "
                f"not {model!r}."
            )
        if not isinstance(messages, list) or not messages:
            raise ValidationFailed(
                "messages must be a non-empty list of {role, content} dicts.",
                hint='E.g. [{"role": "user", "content": "Hello"}].',
            )
        payload = {"model": model, "messages": messages, **extra}
        if stream:
            options = extra.get("stream_options")
            payload["stream"] = True
            payload["stream_options"] = {
                **(options if isinstance(options, dict) else {}),
                "include_usage": True,
            }
        return payload

    # -- errors -------------------------------------------------------------------------------

    def _http_error(self, status: int, headers: httpx.Headers, raw: bytes) -> ProviderError:
        """The wire layer's typed error for an error answer (native or compatible-mode body)."""
        return error_from_answer(status, headers, raw, self._api_key)

    def _transport_error(self, exc: httpx.HTTPError) -> ProviderError:
        return transport_error(f"POST {self.chat_url}", exc, self.timeout, self._api_key)

    @staticmethod
    def _error_text(err: ProviderError) -> str:
        head = f"{err.status_code} {err.code}" if err.code else f"{err.status_code or 'no answer'}"
        return f"{head}: {err.message}"[:ERROR_TEXT_LIMIT]

    # -- recording ----------------------------------------------------------------------------

    def _record(
        self,
        *,
        call_id: str,
        deployed_model: str,
        model_mode: ModelMode,
        at: int,
        started: float,
        status_code: int,
        headers: httpx.Headers | None,
        usage: Any,
        request_id: str | None,
        error: str | None,
    ) -> _Lazy:
        """Journal the call as an entry (the whole cost of metering on the call path)."""
        entry = [
            RAW_VERSION,
            call_id,
            deployed_model,
            at,
            status_code,
            model_mode[0],
            model_mode[1],
            request_id,
            usage_list(usage),
            scan_headers(headers)[1],
            int((perf_counter() - started) * 1_000_000),
            error,
        ]
        return _Lazy(entry, self.recorder.record_entry(entry), self.recorder)

    def _answer(
        self,
        response: httpx.Response,
        call_id: str,
        model: str,
        model_mode: ModelMode,
        at: int,
        started: float,
    ) -> ChatResult:
        status, headers = response.status_code, response.headers
        if status >= 400:
            err = self._http_error(status, headers, response.content)
            self._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=status,
                headers=headers,
                usage=None,
                request_id=err.request_id,
                error=self._error_text(err),
            )
            raise err
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            err = ProviderError(
                f"The chat completion answered {status} with a body that is not a JSON object.",
                status_code=status,
                request_id=headers.get("x-request-id"),
            )
            self._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=status,
                headers=headers,
                usage=None,
                request_id=err.request_id,
                error=self._error_text(err),
            )
            raise err
        # The common path, inlined: it is all that metering adds to a successful call.
        request_id, overflow = scan_headers(headers)
        if request_id is None:
            request_id = _text(data.get("request_id")) or _text(data.get("id"))
        entry = [
            RAW_VERSION,
            call_id,
            model,
            at,
            status,
            model_mode[0],
            model_mode[1],
            request_id,
            usage_list(data.get("usage")),
            overflow,
            int((perf_counter() - started) * 1_000_000),
            None,
        ]
        line = self.recorder.record_entry(entry)
        return ChatResult(data, headers, status, _Lazy(entry, line, self.recorder))


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _request_id(headers: httpx.Headers, body: Any) -> str | None:
    found = scan_headers(headers)[0]
    if found:
        return found
    if isinstance(body, dict):
        return _text(body.get("request_id")) or _text(body.get("id"))
    return None


# --------------------------------------------------------------------------- sync


class MeteredClient(_Core):
    """Calls deployed models synchronously and records every call; close it when done.

    `base_url` is the Model Studio base URL (`…/api/v1`) or its `…/compatible-mode/v1`.
    `deployments(deployed_model) -> (model, mode) | None` tells which catalog prices apply
    (default: the store's deployments). `journal_dir` holds the write-ahead journal (default:
    `<data dir>/metering-journal`). Pass `recorder=` to share one recorder between clients.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        store: Store,
        deployments: Lookup | None = None,
        journal_dir: Path | None = None,
        catalog: Catalog | None = None,
        recorder: Recorder | None = None,
        workspace: str | None = None,
        timeout: float = 120.0,
        max_connections: int = 100,
        clock: Callable[[], datetime] | None = None,
        fsync_each_call: bool = False,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            store=store,
            deployments=deployments,
            journal_dir=journal_dir,
            catalog=catalog,
            recorder=recorder,
            workspace=workspace,
            timeout=timeout,
            max_connections=max_connections,
            clock=clock,
            fsync_each_call=fsync_each_call,
        )
        self._http = httpx.Client(headers=self._headers(), timeout=timeout, limits=self.limits)

    @property
    def http(self) -> httpx.Client:
        """The underlying httpx client (same connections and key); what it sends is not metered."""
        return self._http

    def chat(self, model: str, messages: list[dict[str, Any]], **extra: Any) -> ChatResult:
        """One chat completion (`extra` goes into the JSON body, e.g. `max_tokens`)."""
        payload = self._payload(model, messages, extra, stream=False)
        model_mode = self.lookup(model)
        call_id, at, started = self._begin()
        try:
            response = self._http.post(self.chat_url, json=payload)
        except httpx.HTTPError as exc:
            err = self._transport_error(exc)
            self._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=NO_RESPONSE,
                headers=None,
                usage=None,
                request_id=None,
                error=self._error_text(err),
            )
            raise err from None
        return self._answer(response, call_id, model, model_mode, at, started)

    def stream_chat(self, model: str, messages: list[dict[str, Any]], **extra: Any) -> ChatStream:
        """A streamed chat completion: iterate it for the chunks (usage is in the last one)."""
        payload = self._payload(model, messages, extra, stream=True)
        return ChatStream(self, model, payload)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every call so far is in the store (False on timeout)."""
        return self.recorder.flush(timeout)

    def close(self) -> None:
        """Close the HTTP client and drain the recorder (if this client created it)."""
        self._http.close()
        if self._owns_recorder:
            self.recorder.close()
        else:
            self.recorder.flush(30.0)

    def __enter__(self) -> MeteredClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ChatStream:
    """The chunks of a streamed completion; `headers`, `overflow` and `record` fill in as it runs.

    Iterate it once. Leaving early (break, `close()`, an exception) records the call with the
    error "stream closed before its end" and whatever usage had arrived.
    """

    def __init__(self, client: MeteredClient, model: str, payload: dict[str, Any]) -> None:
        self._client = client
        self._model = model
        self._payload = payload
        self._gen: Generator[dict[str, Any], None, None] | None = None
        self.headers = httpx.Headers()
        self.status_code: int | None = None
        self._entry: _Lazy | None = None

    @property
    def overflow(self) -> bool:
        return overflow_flag(self.headers)

    @property
    def record(self) -> CallRecord | None:
        """The call as recorded, once the stream has ended (or was left)."""
        return None if self._entry is None else self._entry.record

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def close(self) -> None:
        if self._gen is not None:
            self._gen.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> Generator[dict[str, Any], None, None]:
        client, model = self._client, self._model
        model_mode = client.lookup(model)
        call_id, at, started = client._begin()
        state = _StreamState()
        try:
            with client._http.stream("POST", client.chat_url, json=self._payload) as response:
                state.opened(response)
                self.headers, self.status_code = response.headers, response.status_code
                if response.status_code >= 400:
                    raise state.fail(
                        client._http_error(response.status_code, response.headers, response.read())
                    )
                yield from state.events(response.iter_lines(), client)
        except httpx.HTTPError as exc:
            raise state.fail(client._transport_error(exc)) from None
        except ProviderError as err:  # a broken event in the stream
            if state.error is None:
                state.fail(err)
            raise
        finally:
            state.closed_early()
            self._entry = client._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=state.status,
                headers=state.headers,
                usage=state.usage,
                request_id=state.request_id,
                error=state.error,
            )


class _StreamState:
    """What a stream has told so far (shared by the sync and async streams)."""

    def __init__(self) -> None:
        self.status = NO_RESPONSE
        self.headers: httpx.Headers | None = None
        self.usage: dict[str, Any] | None = None
        self.request_id: str | None = None
        self.error: str | None = None
        self.done = False
        self.sse = _SSE()

    def opened(self, response: httpx.Response) -> None:
        self.status, self.headers = response.status_code, response.headers
        self.request_id = _request_id(response.headers, None)

    def fail(self, err: ProviderError) -> ProviderError:
        self.error = _Core._error_text(err)
        if err.request_id:
            self.request_id = err.request_id
        return err

    def closed_early(self) -> None:
        if self.error is None and not self.done:
            self.error = "stream closed before its end (usage may be missing)"

    def take(self, event: Any, client: _Core) -> dict[str, Any] | None:
        """Note one decoded event; the chunk to yield, or None."""
        if event is None:
            return None
        if event is _SSE.DONE:
            self.done = True
            return None
        assert isinstance(event, dict)
        inner = event.get("error")
        if isinstance(inner, dict):
            code = _text(inner.get("code")) or _text(inner.get("type"))
            raise self.fail(
                make_error(
                    self.status or 500,
                    code,
                    client._redact(str(inner.get("message") or "")),
                    self.request_id,
                )
            )
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        if self.request_id is None:
            self.request_id = _text(event.get("id"))
        return event

    def events(self, lines: Iterable[str], client: _Core) -> Iterator[dict[str, Any]]:
        for line in lines:
            chunk = self.take(self.sse.feed(line), client)
            if chunk is not None:
                yield chunk
            if self.done:
                return
        chunk = self.take(self.sse.end(), client)
        if chunk is not None:
            yield chunk
        self.done = True


# --------------------------------------------------------------------------- async


class AsyncMeteredClient(_Core):
    """The async twin of :class:`MeteredClient` (`await chat(...)`, `async for` a stream).

    Records go to the same thread-backed :class:`Recorder`; handing one over never blocks the
    event loop beyond a queue put and one journal write.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        store: Store,
        deployments: Lookup | None = None,
        journal_dir: Path | None = None,
        catalog: Catalog | None = None,
        recorder: Recorder | None = None,
        workspace: str | None = None,
        timeout: float = 120.0,
        max_connections: int = 100,
        clock: Callable[[], datetime] | None = None,
        fsync_each_call: bool = False,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            store=store,
            deployments=deployments,
            journal_dir=journal_dir,
            catalog=catalog,
            recorder=recorder,
            workspace=workspace,
            timeout=timeout,
            max_connections=max_connections,
            clock=clock,
            fsync_each_call=fsync_each_call,
        )
        self._http = httpx.AsyncClient(headers=self._headers(), timeout=timeout, limits=self.limits)
        self._lookups: dict[str, asyncio.Future[ModelMode]] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (same connections and key); what it sends is not metered."""
        return self._http

    async def _model_mode(self, model: str) -> ModelMode:
        """The cached (model, mode), else one lookup in a thread shared by concurrent calls."""
        hit = self.lookup.cached(model)
        if hit is not None:
            return hit
        task = self._lookups.get(model)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(self.lookup, model))
            self._lookups[model] = task
            task.add_done_callback(lambda _done: self._lookups.pop(model, None))
        return await asyncio.shield(task)

    async def chat(self, model: str, messages: list[dict[str, Any]], **extra: Any) -> ChatResult:
        """One chat completion (`extra` goes into the JSON body, e.g. `max_tokens`)."""
        payload = self._payload(model, messages, extra, stream=False)
        model_mode = await self._model_mode(model)
        call_id, at, started = self._begin()
        try:
            response = await self._http.post(self.chat_url, json=payload)
        except httpx.HTTPError as exc:
            err = self._transport_error(exc)
            self._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=NO_RESPONSE,
                headers=None,
                usage=None,
                request_id=None,
                error=self._error_text(err),
            )
            raise err from None
        return self._answer(response, call_id, model, model_mode, at, started)

    def stream_chat(
        self, model: str, messages: list[dict[str, Any]], **extra: Any
    ) -> AsyncChatStream:
        """A streamed chat completion: `async for chunk in stream` (usage in the last chunk)."""
        payload = self._payload(model, messages, extra, stream=True)
        return AsyncChatStream(self, model, payload)

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every call so far is in the store (False on timeout)."""
        return await asyncio.to_thread(self.recorder.flush, timeout)

    async def close(self) -> None:
        """Close the HTTP client and drain the recorder (if this client created it)."""
        await self._http.aclose()
        if self._owns_recorder:
            await asyncio.to_thread(self.recorder.close)
        else:
            await asyncio.to_thread(self.recorder.flush, 30.0)

    async def __aenter__(self) -> AsyncMeteredClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncChatStream:
    """The async twin of :class:`ChatStream`."""

    def __init__(self, client: AsyncMeteredClient, model: str, payload: dict[str, Any]) -> None:
        self._client = client
        self._model = model
        self._payload = payload
        self._gen: AsyncGenerator[dict[str, Any], None] | None = None
        self.headers = httpx.Headers()
        self.status_code: int | None = None
        self._entry: _Lazy | None = None

    @property
    def overflow(self) -> bool:
        return overflow_flag(self.headers)

    @property
    def record(self) -> CallRecord | None:
        """The call as recorded, once the stream has ended (or was left)."""
        return None if self._entry is None else self._entry.record

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[dict[str, Any], None]:
        client, model = self._client, self._model
        model_mode = await client._model_mode(model)
        call_id, at, started = client._begin()
        state = _StreamState()
        try:
            async with client._http.stream("POST", client.chat_url, json=self._payload) as response:
                state.opened(response)
                self.headers, self.status_code = response.headers, response.status_code
                if response.status_code >= 400:
                    raw = await response.aread()
                    err = client._http_error(response.status_code, response.headers, raw)
                    raise state.fail(err)
                async for line in response.aiter_lines():
                    chunk = state.take(state.sse.feed(line), client)
                    if chunk is not None:
                        yield chunk
                    if state.done:
                        break
                else:
                    chunk = state.take(state.sse.end(), client)
                    if chunk is not None:
                        yield chunk
                    state.done = True
        except httpx.HTTPError as exc:
            raise state.fail(client._transport_error(exc)) from None
        except ProviderError as err:  # a broken event in the stream
            if state.error is None:
                state.fail(err)
            raise
        finally:
            state.closed_early()
            self._entry = client._record(
                call_id=call_id,
                deployed_model=model,
                model_mode=model_mode,
                at=at,
                started=started,
                status_code=state.status,
                headers=state.headers,
                usage=state.usage,
                request_id=state.request_id,
                error=state.error,
            )
