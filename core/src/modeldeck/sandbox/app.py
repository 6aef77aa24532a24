"""The sandbox's HTTP face: Model Studio's deployments API, chat completions and an admin API.

Shapes follow the spec: native answers are ``{"request_id", "output"}``, native errors
``{"request_id", "code", "message"}``, OpenAI-compatible errors ``{"error": {...}}``. The admin
API under ``/_sandbox`` (same API keys) moves the clock, sets faults and statuses, and reads usage.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from pydantic import TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from modeldeck.sandbox.config import FaultRule, SandboxConfig
from modeldeck.sandbox.engine import IDEMPOTENCY_HEADERS, Caller, Sandbox, SandboxError, invalid
from modeldeck.sandbox.faults import FaultInjector
from modeldeck.sandbox.inference import chat, generation
from modeldeck.sandbox.prometheus import prometheus_routes

WORKSPACE_HEADER = "x-dashscope-workspace"
Handler = Callable[[Request, Caller], Awaitable[Any]]
_RULES = TypeAdapter(list[FaultRule])


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


def _native(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, run, and wrap the result or error in Model Studio's native envelope."""

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"x-request-id": request_id}
        sandbox = _sandbox(request)
        try:
            caller = sandbox.authenticate(
                request.headers.get("authorization"), request.headers.get(WORKSPACE_HEADER)
            )
            output = await handler(request, caller)
        except SandboxError as err:
            body = {"request_id": request_id, "code": err.code, "message": err.message}
            return JSONResponse(body, status_code=err.status, headers={**err.headers, **headers})
        return JSONResponse({"request_id": request_id, "output": output}, headers=headers)

    return endpoint


def _request_id(request: Request) -> str | None:
    """The caller's request id (`x-acs-req-uuid`, `X-DashScope-RequestId` or `X-Request-Id`)."""
    return next((request.headers[h] for h in IDEMPOTENCY_HEADERS if request.headers.get(h)), None)


async def _create(request: Request, caller: Caller) -> Any:
    # The request id is passed and ignored: a first create has no idempotency on the service.
    return _sandbox(request).create(
        caller, await _json(request), _request_id(request), request.url.path
    )


async def _list(request: Request, caller: Caller) -> Any:
    q = request.query_params
    return _sandbox(request).list_deployments(
        caller, q.get("page_no"), q.get("page_size"), q.get("plan")
    )


async def _models(request: Request, caller: Caller) -> Any:
    q = request.query_params
    return _sandbox(request).deployable_models(
        caller, q.get("page_no"), q.get("page_size"), q.get("model_source")
    )


async def _get(request: Request, caller: Caller) -> Any:
    return _sandbox(request).get(caller, request.path_params["deployed_model"])


async def _delete(request: Request, caller: Caller) -> Any:
    return _sandbox(request).delete(caller, request.path_params["deployed_model"])


async def _scale(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return _sandbox(request).scale(
        caller, dm, await _json(request), _request_id(request), request.url.path
    )


async def _renew(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return _sandbox(request).renew(
        caller, dm, await _json(request), _request_id(request), request.url.path
    )


def _instance_write(action: str) -> Handler:
    async def handler(request: Request, caller: Caller) -> Any:
        body = {} if request.method == "DELETE" else await _json(request)
        if request.method == "DELETE" and request.query_params.get("reason"):
            body = {"reason": request.query_params["reason"]}
        return _sandbox(request).instance_write(
            caller,
            request.path_params["deployed_model"],
            action,
            request.path_params.get("instance_id"),
            body,
            _request_id(request),
            request.url.path,
            request.method,
        )

    return handler


async def _list_instances(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return _sandbox(request).list_instances(caller, dm, request.query_params)


async def _get_instance(request: Request, caller: Caller) -> Any:
    p = request.path_params
    return _sandbox(request).get_instance(caller, p["deployed_model"], p["instance_id"])


async def _get_operation(request: Request, caller: Caller) -> Any:
    p = request.path_params
    return _sandbox(request).get_operation(caller, p["deployed_model"], p["operation_id"])


async def _update(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return _sandbox(request).update_limits(caller, dm, await _json(request))


async def _overflow(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return _sandbox(request).update_overflow(caller, dm, await _json(request))


# Native code -> compatible-mode code (the error-code page's pairs).
_COMPAT_CODES = {
    "InvalidParameter": "invalid_request_error",
    "InvalidApiKey": "invalid_api_key",
    "NotFound": "model_not_found",
    "ModelNotFound": "model_not_found",
    "Throttling.RateQuota": "limit_requests",
    "Throttling.AllocationQuota": "insufficient_quota",
    "Arrearage": "Arrearage",
}


def _compat_error(err: SandboxError, request_id: str) -> JSONResponse:
    kind = (
        "invalid_request_error"
        if err.status < 429
        else ("rate_limit_error" if err.status == 429 else "server_error")
    )
    body = {
        "error": {
            "message": err.message,
            "type": kind,
            "param": err.param,
            "code": _COMPAT_CODES.get(err.code, err.code),
        },
        "request_id": request_id,
    }
    headers = {**err.headers, "x-request-id": request_id}
    return JSONResponse(body, status_code=err.status, headers=headers)


async def _chat(request: Request) -> Response:
    sandbox = _sandbox(request)
    try:
        caller = sandbox.authenticate(
            request.headers.get("authorization"), request.headers.get(WORKSPACE_HEADER)
        )
        reply = chat(sandbox, caller, await _json(request))
    except SandboxError as err:
        return _compat_error(err, str(uuid.uuid4()))
    if reply.chunks is None:
        return JSONResponse(reply.body, headers=reply.headers)
    chunks = reply.chunks

    async def events() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=reply.headers)


async def _generation(request: Request) -> Response:
    """Native DashScope text generation, plain or SSE (`X-DashScope-SSE: enable`)."""
    sandbox = _sandbox(request)
    stream = request.headers.get("x-dashscope-sse", "").lower() == "enable" or (
        "text/event-stream" in request.headers.get("accept", "")
    )
    try:
        caller = sandbox.authenticate(
            request.headers.get("authorization"), request.headers.get(WORKSPACE_HEADER)
        )
        reply = generation(sandbox, caller, await _json(request), stream=stream)
    except SandboxError as err:
        request_id = str(uuid.uuid4())
        body = {"request_id": request_id, "code": err.code, "message": err.message}
        headers = {**err.headers, "x-request-id": request_id}
        return JSONResponse(body, status_code=err.status, headers=headers)
    if reply.chunks is None:
        return JSONResponse(reply.body, headers=reply.headers)
    chunks = reply.chunks

    async def events() -> AsyncIterator[bytes]:
        for index, chunk in enumerate(chunks, start=1):
            payload = json.dumps(chunk, ensure_ascii=False)
            yield f"id:{index}\nevent:result\n:HTTP_STATUS/200\ndata:{payload}\n\n".encode()

    return StreamingResponse(events(), media_type="text/event-stream", headers=reply.headers)


async def _console_create(request: Request, caller: Caller) -> Any:
    """A deployment bought in the console (e.g. an MU monthly package): not through the API."""
    return _sandbox(request).create(caller, await _json(request), None, "", console=True)


async def _arrears(request: Request, caller: Caller) -> Any:
    body = await _json(request)
    overdue = body.get("overdue") if isinstance(body, dict) else None
    if not isinstance(overdue, bool):
        raise invalid('Send {"overdue": true} to mark the account overdue, false when paid.')
    return _sandbox(request).set_arrears(overdue)


# -- admin ------------------------------------------------------------------------------------


async def _state(request: Request, caller: Caller) -> Any:
    sandbox = _sandbox(request)
    return {
        "now": sandbox.clock.datetime().isoformat(timespec="seconds"),
        "clock_speed": sandbox.clock.speed,
        "faults": [rule.model_dump() for rule in sandbox.faults],
        "workspace_id": caller.workspace,
        "member": caller.member,
        "api_generation": sandbox.config.api_generation,
        "overdue": sandbox.arrears_since() is not None,
    }


async def _advance(request: Request, caller: Caller) -> Any:
    body = await _json(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise invalid('Send {"seconds": N} with N >= 0 to move the sandbox clock forward.')
    sandbox = _sandbox(request)
    sandbox.advance(float(seconds))
    return {"now": sandbox.clock.datetime().isoformat(timespec="seconds")}


async def _faults(request: Request, caller: Caller) -> Any:
    try:
        rules = _RULES.validate_python(await _json(request))
    except ValidationError as exc:
        raise invalid(f"Invalid fault rules: {exc.errors()[0]['msg']}.") from None
    _sandbox(request).set_faults(rules)
    return {"faults": [rule.model_dump() for rule in rules]}


async def _set_status(request: Request, caller: Caller) -> Any:
    body = await _json(request)
    status = body.get("status") if isinstance(body, dict) else None
    if status is not None and not isinstance(status, str):
        raise invalid('Send {"status": "NAME"} (or null to clear the override).')
    dm = request.path_params["deployed_model"]
    _sandbox(request).set_status(dm, status, caller.workspace)
    return _sandbox(request).get(caller, dm)


async def _usage(request: Request, caller: Caller) -> Any:
    dm = request.path_params["deployed_model"]
    return {"deployed_model": dm, "minutes": _sandbox(request).meter.rows(caller.workspace, dm)}


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, "InternalError")
    message = {
        404: f"No such API: {request.method} {request.url.path}",
        405: f"Method {request.method} is not allowed on {request.url.path}",
    }.get(status, "An internal error has occurred.")
    return JSONResponse(
        {"request_id": str(uuid.uuid4()), "code": code, "message": message}, status_code=status
    )


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """The sandbox as an ASGI app; its :class:`Sandbox` is ``app.state.sandbox``."""
    sandbox = Sandbox(config or SandboxConfig())
    deployment = "/api/v1/deployments/{deployed_model}"
    instances = f"{deployment}/capacity-instances"
    reservation_routes = [
        Route(f"{deployment}/renew", _native(_renew), methods=["PUT"]),
        Route(instances, _native(_instance_write("add")), methods=["POST"]),
        Route(instances, _native(_list_instances), methods=["GET"]),
        Route(f"{instances}/{{instance_id}}", _native(_get_instance), methods=["GET"]),
        Route(
            f"{instances}/{{instance_id}}", _native(_instance_write("release")), methods=["DELETE"]
        ),
        Route(
            f"{instances}/{{instance_id}}/scale", _native(_instance_write("scale")), methods=["PUT"]
        ),
        Route(
            f"{instances}/{{instance_id}}/renew", _native(_instance_write("renew")), methods=["PUT"]
        ),
        Route(
            f"{deployment}/capacity-operations/{{operation_id}}",
            _native(_get_operation),
            methods=["GET"],
        ),
    ]
    routes = [
        Route("/api/v1/deployments", _native(_create), methods=["POST"]),
        Route("/api/v1/deployments", _native(_list), methods=["GET"]),
        Route("/api/v1/deployments/models", _native(_models), methods=["GET"]),
        Route(deployment, _native(_get), methods=["GET"]),
        Route(deployment, _native(_delete), methods=["DELETE"]),
        Route(f"{deployment}/scale", _native(_scale), methods=["PUT"]),
        Route(f"{deployment}/update", _native(_update), methods=["PUT"]),
        Route(f"{deployment}/update-overflowstrategy", _native(_overflow), methods=["PUT"]),
        *(reservation_routes if sandbox.config.ktpm else []),
        Route("/compatible-mode/v1/chat/completions", _chat, methods=["POST"]),
        Route("/api/v1/services/aigc/text-generation/generation", _generation, methods=["POST"]),
        Route("/_sandbox/health", _health, methods=["GET"]),
        Route("/_sandbox/state", _native(_state), methods=["GET"]),
        Route("/_sandbox/clock/advance", _native(_advance), methods=["POST"]),
        Route("/_sandbox/faults", _native(_faults), methods=["PUT"]),
        Route(
            "/_sandbox/deployments/{deployed_model}/status", _native(_set_status), methods=["PUT"]
        ),
        Route("/_sandbox/usage/{deployed_model}", _native(_usage), methods=["GET"]),
        Route("/_sandbox/arrears", _native(_arrears), methods=["PUT"]),
        Route("/_sandbox/console/deployments", _native(_console_create), methods=["POST"]),
        *prometheus_routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultInjector, sandbox=sandbox)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app


def run_sandbox(
    config: SandboxConfig, host: str = "127.0.0.1", port: int = 8760, *, log_level: str = "info"
) -> None:
    """Serve the sandbox until interrupted (``modeldeck sandbox --host --port``)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level)
