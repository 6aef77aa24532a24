"""The one Model Studio wire layer: URL, auth, envelopes, typed errors, retries and redaction.

The deployments client sends every call through :class:`Wire`; the metering clients build their
headers and errors with the same functions (:func:`auth_headers`, :func:`error_from_answer`,
:func:`transport_error`), so there is no second copy of how Model Studio is spoken. Retries use
tenacity: 429, 5xx, time-outs and dropped connections, with exponential backoff and jitter,
honouring ``Retry-After``. A call sent with ``retry=False`` (a first create) goes out once.
The API key is a ``SecretStr``; it is redacted from every error text.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception

from modeldeck import masking
from modeldeck.errors import ValidationFailed
from modeldeck.provider.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    ServerError,
    ThrottlingError,
    make_error,
)
from modeldeck.timeutil import utcnow

log = logging.getLogger("modeldeck.provider")

WORKSPACE_HEADER = "X-DashScope-WorkSpace"
REQUEST_ID_HEADERS = ("x-acs-req-uuid", "X-DashScope-RequestId")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def as_secret(api_key: str | SecretStr | None) -> SecretStr | None:
    """The key as a SecretStr (stripped), registered for log masking, so no repr or log line
    shows it (httpcore quotes headers in its debug records)."""
    secret = SecretStr(api_key.strip()) if isinstance(api_key, str) else api_key
    if secret is not None and secret.get_secret_value():
        masking.register(secret.get_secret_value())
    return secret


def auth_headers(
    api_key: SecretStr | None, workspace: str | None, *, user_agent: str = "modeldeck"
) -> dict[str, str]:
    """Accept, User-Agent, `Authorization: Bearer …` and the optional workspace header."""
    headers = {"Accept": "application/json", "User-Agent": user_agent}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
    if workspace:
        headers[WORKSPACE_HEADER] = workspace
    return headers


def redact(text: str, api_key: SecretStr | None) -> str:
    """`text` with the API key masked in every form a service may echo it in (as is, escaped,
    percent-encoded, base64...): see :mod:`modeldeck.masking`."""
    if api_key is None or not api_key.get_secret_value():
        return text
    return masking.mask(text, [api_key.get_secret_value()])


def envelope(body: Any) -> dict[str, Any]:
    """The answer's payload: `output` (documented), `data` (the CLI accepts it) or the body."""
    if not isinstance(body, dict):
        return {}
    out = body.get("output", body.get("data", body))
    return out if isinstance(out, dict) else {}


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def error_from_answer(
    status: int, headers: httpx.Headers, raw: bytes, api_key: SecretStr | None
) -> ProviderError:
    """The typed error for an HTTP error answer, native (`code`) or compatible-mode (`error`)."""
    code: str | None = None
    message = ""
    request_id = headers.get("x-request-id")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        inner = body.get("error")
        source = inner if isinstance(inner, dict) else body
        code = _text(source.get("code")) or _text(source.get("type"))
        message = str(source.get("message") or "")
        request_id = _text(body.get("request_id")) or request_id
    if not message:
        message = raw[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
    return make_error(
        status, code, redact(message, api_key), request_id, retry_after=parse_retry_after(headers)
    )


def transport_error(
    where: str, exc: Exception, timeout: float, api_key: SecretStr | None
) -> ProviderError:
    """A time-out or a failed connection as a ProviderError; the cause is kept only if clean."""
    if isinstance(exc, httpx.TimeoutException):
        err: ProviderError = ProviderTimeout(
            f"{where} got no answer within {timeout} s ({type(exc).__name__})."
        )
    else:
        detail = redact(str(exc), api_key) or type(exc).__name__
        err = ProviderConnectionError(f"{where} failed: {detail}.")
    if redact(str(exc), api_key) == str(exc):
        err.__cause__ = exc
    return err


def is_retryable(err: BaseException) -> bool:
    """Transient: no answer, throttled, or a 5xx the service documents as retryable."""
    if isinstance(err, ProviderConnectionError | ThrottlingError):
        return True
    return isinstance(err, ServerError) and err.status_code in RETRY_STATUSES


class Wire:
    """Sync HTTP to one Model Studio base URL; :meth:`call` answers the JSON body or raises."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "modeldeck",
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValidationFailed(
                f"Model Studio base URL {base_url!r} is not an http(s) URL.",
                hint="Use e.g. https://dashscope.aliyuncs.com/api/v1.",
            )
        if max_retries < 0:
            raise ValidationFailed(f"max_retries must be 0 or more, not {max_retries}.")
        self.base_url = base_url.rstrip("/")
        self.api_key = as_secret(api_key)
        self.workspace = workspace or None
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=auth_headers(self.api_key, self.workspace, user_agent=user_agent),
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send one call (retried when transient, unless `retry` is False); the JSON body."""
        attempts = 1 + (self.max_retries if retry else 0)

        def stop(state: RetryCallState) -> bool:
            return state.attempt_number >= attempts or self._retry_after_too_long(state)

        retrying = Retrying(
            stop=stop,
            retry=retry_if_exception(is_retryable),
            wait=self._wait,
            before_sleep=lambda state: self._log_retry(method, path, state),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    return self._once(method, path, params, json, headers)
                except ProviderError as err:
                    err.attempts = attempt.retry_state.attempt_number
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        try:
            response = self.http.request(
                method, path, params=params, json=body, headers=dict(headers or {})
            )
        except httpx.TransportError as exc:
            where = f"{method} {self.base_url}{path}"
            raise transport_error(where, exc, self.timeout, self.api_key) from None
        if response.status_code >= 400:
            raise error_from_answer(
                response.status_code, response.headers, response.content, self.api_key
            )
        request_id = response.headers.get("x-request-id")
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(
                f"{method} {path} answered {response.status_code} with a non-JSON body.",
                status_code=response.status_code,
                request_id=request_id,
            ) from None
        if not isinstance(data, dict):
            data = {}
        data.setdefault("request_id", request_id)
        return data

    def _retry_after_too_long(self, state: RetryCallState) -> bool:
        err = state.outcome.exception() if state.outcome else None
        retry_after = getattr(err, "retry_after", None)
        return retry_after is not None and retry_after > self.max_retry_after

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        retry_after = getattr(err, "retry_after", None)
        if retry_after is not None:
            return float(retry_after) * (1 + random.uniform(0, 0.1))
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (state.attempt_number - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _log_retry(self, method: str, path: str, state: RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "Model Studio %s %s failed (%s); retry %d/%d in %.2f s",
            method,
            path,
            _short(err),
            state.attempt_number,
            self.max_retries,
            delay,
        )


def _short(err: BaseException | None) -> str:
    if isinstance(err, ProviderError) and err.status_code is not None:
        return f"{err.status_code} {err.code or ''}".strip()
    return type(err).__name__


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
