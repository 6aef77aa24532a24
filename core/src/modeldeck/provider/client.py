"""The Model Studio deployments client, sync and async, over httpx.

Both clients share one description of every call (:class:`_Call`) and differ only in how they send
it. Failures map to :mod:`modeldeck.provider.errors`. 429, 5xx, timeouts and dropped connections
are retried with exponential backoff and jitter, honouring ``Retry-After``; a create carries one
``x-acs-req-uuid`` for all its attempts, so a retried create never makes two deployments. The API
key is kept as a ``SecretStr``: it is in no repr, log line or exception text.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

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
from modeldeck.provider.models import (
    CreateDeploymentRequest,
    DeployableModelPage,
    DeploymentInfo,
    DeploymentPage,
    PtuCapacity,
)
from modeldeck.timeutil import utcnow

log = logging.getLogger("modeldeck.provider")

T = TypeVar("T")
IDEMPOTENCY_HEADER = "x-acs-req-uuid"
WORKSPACE_HEADER = "X-DashScope-WorkSpace"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class _Call(Generic[T]):
    """One API call: what to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[dict[str, Any], str | None], T]
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _output(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope's payload: `output` (documented), `data` (seen in newer answers) or the body."""
    out = body.get("output", body.get("data", body))
    return out if isinstance(out, dict) else {}


def _deployment(body: dict[str, Any], request_id: str | None) -> DeploymentInfo:
    return DeploymentInfo.model_validate({**_output(body), "request_id": request_id})


def _deployment_page(body: dict[str, Any], request_id: str | None) -> DeploymentPage:
    return DeploymentPage.model_validate({**_output(body), "request_id": request_id})


def _model_page(body: dict[str, Any], request_id: str | None) -> DeployableModelPage:
    return DeployableModelPage.model_validate({**_output(body), "request_id": request_id})


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


def compatible_mode_url(base_url: str) -> str:
    """The OpenAI-compatible base URL next to a deployments base URL (`.../compatible-mode/v1`)."""
    root = base_url.rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return f"{root}/compatible-mode/v1"


class _ClientCore:
    """State and call descriptions shared by the sync and the async client."""

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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValidationFailed(
                f"Model Studio base URL {base_url!r} is not an http(s) URL.",
                hint="Use e.g. https://dashscope.aliyuncs.com/api/v1.",
            )
        if max_retries < 0:
            raise ValidationFailed(f"max_retries must be 0 or more, not {max_retries}.")
        self.base_url = base_url.rstrip("/")
        if isinstance(api_key, str):
            api_key = SecretStr(api_key.strip())
        self._api_key: SecretStr | None = api_key
        if api_key is not None:  # its log records are masked too (httpcore quotes headers)
            masking.register(api_key.get_secret_value())
        self.workspace = workspace or None
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after

    def __repr__(self) -> str:
        key = "'***'" if self._api_key is not None else "None"
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, workspace={self.workspace!r}, "
            f"api_key={key})"
        )

    @property
    def compatible_base_url(self) -> str:
        """Where deployed models are called (OpenAI-compatible chat completions)."""
        return compatible_mode_url(self.base_url)

    def _default_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "modeldeck"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        if self.workspace:
            headers[WORKSPACE_HEADER] = self.workspace
        return headers

    def _redact(self, text: str) -> str:
        """Mask the key in every form (escaped, URL-encoded, base64...), see modeldeck.masking."""
        if self._api_key is not None and self._api_key.get_secret_value():
            text = masking.mask(text, [self._api_key.get_secret_value()])
        return text

    # -- call descriptions -------------------------------------------------------------------

    def _create_call(
        self, body: CreateDeploymentRequest | dict[str, Any], idempotency_key: str | None
    ) -> _Call[DeploymentInfo]:
        payload = body.to_body() if isinstance(body, CreateDeploymentRequest) else dict(body)
        payload = {
            k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v
            for k, v in payload.items()
            if v is not None
        }
        key = idempotency_key or str(uuid.uuid4())
        return _Call(
            "POST", "/deployments", _deployment, json=payload, headers={IDEMPOTENCY_HEADER: key}
        )

    def _get_call(self, deployed_model: str) -> _Call[DeploymentInfo]:
        return _Call("GET", f"/deployments/{_seg(deployed_model)}", _deployment)

    def _list_call(self, page_no: int, page_size: int) -> _Call[DeploymentPage]:
        if page_no < 1 or not 1 <= page_size <= 200:
            raise ValidationFailed(
                f"Invalid page (page_no={page_no}, page_size={page_size}).",
                hint="page_no starts at 1; page_size is 1 to 200 (100 or less is safest).",
            )
        return _Call(
            "GET",
            "/deployments",
            _deployment_page,
            params={"page_no": page_no, "page_size": page_size},
        )

    def _scale_call(
        self,
        deployed_model: str,
        capacity: int | None,
        ptu_capacity: PtuCapacity | dict[str, Any] | None,
    ) -> _Call[DeploymentInfo]:
        if (capacity is None) == (ptu_capacity is None):
            raise ValidationFailed(
                f"Scaling {deployed_model} needs exactly one of capacity (MU) or ptu_capacity "
                "(PTU).",
                hint="MU: capacity=<units>; PTU: ptu_capacity={'input_tpm': N, 'output_tpm': M}.",
            )
        body: dict[str, Any]
        if capacity is not None:
            body = {"capacity": capacity}
        else:
            ptu = (
                ptu_capacity
                if isinstance(ptu_capacity, PtuCapacity)
                else PtuCapacity.model_validate(ptu_capacity)
            )
            body = {"ptu_capacity": ptu.model_dump(exclude_none=True)}
        return _Call("PUT", f"/deployments/{_seg(deployed_model)}/scale", _deployment, json=body)

    def _limits_call(
        self, deployed_model: str, rpm_limit: int | None, tpm_limit: int | None
    ) -> _Call[DeploymentInfo]:
        if rpm_limit is None and tpm_limit is None:
            raise ValidationFailed(
                f"Updating the limits of {deployed_model} needs rpm_limit or tpm_limit (or both)."
            )
        body = {
            k: v
            for k, v in {"rpm_limit": rpm_limit, "tpm_limit": tpm_limit}.items()
            if v is not None
        }
        return _Call("PUT", f"/deployments/{_seg(deployed_model)}/update", _deployment, json=body)

    def _overflow_call(self, deployed_model: str, enabled: bool) -> _Call[DeploymentInfo]:
        body = {"overflow_strategy": "enable" if enabled else "disable"}
        path = f"/deployments/{_seg(deployed_model)}/update-overflowstrategy"
        return _Call("PUT", path, _deployment, json=body)

    def _delete_call(self, deployed_model: str) -> _Call[DeploymentInfo]:
        return _Call("DELETE", f"/deployments/{_seg(deployed_model)}", _deployment)

    def _models_call(
        self, page_no: int, page_size: int, model_source: str | None, version: str | None
    ) -> _Call[DeployableModelPage]:
        params: dict[str, Any] = {"page_no": page_no, "page_size": page_size}
        if model_source:
            params["model_source"] = model_source
        if version:
            params["version"] = version
        return _Call("GET", "/deployments/models", _model_page, params=params)

    # -- answers, errors and retries ---------------------------------------------------------

    def _read(self, call: _Call[T], response: httpx.Response) -> T:
        request_id = response.headers.get("x-request-id")
        try:
            body = response.json()
        except ValueError:
            raise ProviderError(
                f"{call.method} {call.path} answered {response.status_code} with a non-JSON body.",
                status_code=response.status_code,
                request_id=request_id,
            ) from None
        if not isinstance(body, dict):
            body = {}
        request_id = body.get("request_id") or request_id
        try:
            return call.parse(body, request_id)
        except ValidationError as exc:
            raise ProviderError(
                f"{call.method} {call.path} answered with an unexpected shape: "
                f"{exc.error_count()} field(s) invalid ({exc.errors()[0]['loc']}).",
                status_code=response.status_code,
                request_id=request_id,
            ) from None

    def _error(self, response: httpx.Response, attempt: int) -> ProviderError:
        code: str | None = None
        message = ""
        request_id = response.headers.get("x-request-id")
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            inner = body.get("error")
            if isinstance(inner, dict):
                code = _str_or_none(inner.get("code")) or _str_or_none(inner.get("type"))
                message = str(inner.get("message") or "")
            else:
                code = _str_or_none(body.get("code"))
                message = str(body.get("message") or "")
            request_id = _str_or_none(body.get("request_id")) or request_id
        if not message:
            message = response.text[:200].strip() or response.reason_phrase or "no message"
        return make_error(
            response.status_code,
            code,
            self._redact(message),
            request_id,
            retry_after=parse_retry_after(response.headers),
            attempts=attempt,
        )

    def _transport_error(self, call: _Call[Any], exc: Exception, attempt: int) -> ProviderError:
        where = f"{call.method} {self.base_url}{call.path}"
        if isinstance(exc, httpx.TimeoutException):
            err: ProviderError = ProviderTimeout(
                f"{where} got no answer within {self.timeout} s ({type(exc).__name__}).",
                attempts=attempt,
            )
        else:
            err = ProviderConnectionError(
                f"{where} failed: {self._redact(str(exc)) or type(exc).__name__}.",
                attempts=attempt,
            )
        if self._redact(str(exc)) == str(exc):  # chain the cause only if it holds no secret
            err.__cause__ = exc
        return err

    def _retry_delay(self, err: ProviderError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise `err`."""
        if attempt > self.max_retries:
            return None
        retryable = isinstance(err, ProviderConnectionError | ThrottlingError) or (
            isinstance(err, ServerError) and err.status_code in RETRY_STATUSES
        )
        if not retryable:
            return None
        if err.retry_after is not None:
            if err.retry_after > self.max_retry_after:
                return None
            return err.retry_after * (1 + random.uniform(0, 0.1))
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _log_retry(self, call: _Call[Any], err: ProviderError, attempt: int, delay: float) -> None:
        log.warning(
            "Model Studio %s %s failed (%s); retry %d/%d in %.2f s",
            call.method,
            call.path,
            _short(err),
            attempt,
            self.max_retries,
            delay,
        )


class ModelStudioClient(_ClientCore):
    """Synchronous Model Studio deployments client; a context manager (or call `close()`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            workspace=workspace,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._default_headers(),
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> ModelStudioClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=call.headers
                )
            except httpx.TransportError as exc:
                err = self._transport_error(call, exc, attempt)
            else:
                if response.status_code < 400:
                    return self._read(call, response)
                err = self._error(response, attempt)
            delay = self._retry_delay(err, attempt)
            if delay is None:
                raise err
            self._log_retry(call, err, attempt, delay)
            time.sleep(delay)

    def create_deployment(
        self, body: CreateDeploymentRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DeploymentInfo:
        """Deploy a model (`POST /deployments`); retries reuse one idempotency key."""
        return self._send(self._create_call(body, idempotency_key))

    def get_deployment(self, deployed_model: str) -> DeploymentInfo:
        """One deployment by its Model Code; ProviderNotFound once it is gone."""
        return self._send(self._get_call(deployed_model))

    def list_deployments(self, page_no: int = 1, page_size: int = 100) -> DeploymentPage:
        """One page of the workspace's deployments."""
        return self._send(self._list_call(page_no, page_size))

    def iter_deployments(self, page_size: int = 100) -> Iterator[DeploymentInfo]:
        """Every deployment, page after page."""
        page_no, seen = 1, 0
        while True:
            page = self.list_deployments(page_no, page_size)
            yield from page.deployments
            seen += len(page.deployments)
            if _last_page(page, seen, page_no):
                return
            page_no += 1

    def scale_deployment(
        self,
        deployed_model: str,
        *,
        capacity: int | None = None,
        ptu_capacity: PtuCapacity | dict[str, Any] | None = None,
    ) -> DeploymentInfo:
        """Set an absolute MU capacity or PTU TPM (`PUT .../scale`)."""
        return self._send(self._scale_call(deployed_model, capacity, ptu_capacity))

    def update_limits(
        self, deployed_model: str, *, rpm_limit: int | None = None, tpm_limit: int | None = None
    ) -> DeploymentInfo:
        """Set MU rate limits (`PUT .../update`)."""
        return self._send(self._limits_call(deployed_model, rpm_limit, tpm_limit))

    def update_overflow_strategy(self, deployed_model: str, *, enabled: bool) -> DeploymentInfo:
        """Enable or disable PTU overflow to pay-as-you-go (`PUT .../update-overflowstrategy`)."""
        return self._send(self._overflow_call(deployed_model, enabled))

    def delete_deployment(self, deployed_model: str) -> DeploymentInfo:
        """Unpublish: offline at once, not recoverable, billing stops (status `DELETING`)."""
        return self._send(self._delete_call(deployed_model))

    def list_deployable_models(
        self,
        *,
        page_no: int = 1,
        page_size: int = 100,
        model_source: str | None = None,
        version: str | None = None,
    ) -> DeployableModelPage:
        """Models the workspace can deploy, with their plans (`GET /deployments/models`)."""
        return self._send(self._models_call(page_no, page_size, model_source, version))


class AsyncModelStudioClient(_ClientCore):
    """Asynchronous twin of :class:`ModelStudioClient` (same methods, awaited)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            workspace=workspace,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._default_headers(),
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncModelStudioClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.json, headers=call.headers
                )
            except httpx.TransportError as exc:
                err = self._transport_error(call, exc, attempt)
            else:
                if response.status_code < 400:
                    return self._read(call, response)
                err = self._error(response, attempt)
            delay = self._retry_delay(err, attempt)
            if delay is None:
                raise err
            self._log_retry(call, err, attempt, delay)
            await asyncio.sleep(delay)

    async def create_deployment(
        self, body: CreateDeploymentRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DeploymentInfo:
        """Deploy a model (`POST /deployments`); retries reuse one idempotency key."""
        return await self._send(self._create_call(body, idempotency_key))

    async def get_deployment(self, deployed_model: str) -> DeploymentInfo:
        """One deployment by its Model Code; ProviderNotFound once it is gone."""
        return await self._send(self._get_call(deployed_model))

    async def list_deployments(self, page_no: int = 1, page_size: int = 100) -> DeploymentPage:
        """One page of the workspace's deployments."""
        return await self._send(self._list_call(page_no, page_size))

    async def iter_deployments(self, page_size: int = 100) -> AsyncIterator[DeploymentInfo]:
        """Every deployment, page after page."""
        page_no, seen = 1, 0
        while True:
            page = await self.list_deployments(page_no, page_size)
            for item in page.deployments:
                yield item
            seen += len(page.deployments)
            if _last_page(page, seen, page_no):
                return
            page_no += 1

    async def scale_deployment(
        self,
        deployed_model: str,
        *,
        capacity: int | None = None,
        ptu_capacity: PtuCapacity | dict[str, Any] | None = None,
    ) -> DeploymentInfo:
        """Set an absolute MU capacity or PTU TPM (`PUT .../scale`)."""
        return await self._send(self._scale_call(deployed_model, capacity, ptu_capacity))

    async def update_limits(
        self, deployed_model: str, *, rpm_limit: int | None = None, tpm_limit: int | None = None
    ) -> DeploymentInfo:
        """Set MU rate limits (`PUT .../update`)."""
        return await self._send(self._limits_call(deployed_model, rpm_limit, tpm_limit))

    async def update_overflow_strategy(
        self, deployed_model: str, *, enabled: bool
    ) -> DeploymentInfo:
        """Enable or disable PTU overflow to pay-as-you-go (`PUT .../update-overflowstrategy`)."""
        return await self._send(self._overflow_call(deployed_model, enabled))

    async def delete_deployment(self, deployed_model: str) -> DeploymentInfo:
        """Unpublish: offline at once, not recoverable, billing stops (status `DELETING`)."""
        return await self._send(self._delete_call(deployed_model))

    async def list_deployable_models(
        self,
        *,
        page_no: int = 1,
        page_size: int = 100,
        model_source: str | None = None,
        version: str | None = None,
    ) -> DeployableModelPage:
        """Models the workspace can deploy, with their plans (`GET /deployments/models`)."""
        return await self._send(self._models_call(page_no, page_size, model_source, version))


def _last_page(page: DeploymentPage, seen: int, page_no: int) -> bool:
    """Stop on an empty page, once `total` is reached, or after `total` pages (a server that
    keeps answering never loops us forever, even if it caps `page_size` lower than asked)."""
    return not page.deployments or seen >= page.total or page_no >= page.total


def _seg(value: str) -> str:
    """A path segment, percent-encoded (a Model Code never spans segments)."""
    if not value or not value.strip():
        raise ValidationFailed("A deployed model (Model Code) is required, got an empty one.")
    return quote(value.strip(), safe="")


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _short(err: ProviderError) -> str:
    if err.status_code is not None:
        return f"{err.status_code} {err.code or ''}".strip()
    return type(err).__name__
