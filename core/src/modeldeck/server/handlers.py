"""Error handling of the server: every failure is a JSON error body with the right status.

modeldeck's own errors keep their class (see server/errors.py); the store's faults are 503
"the store is unavailable, nothing was lost, try again"; anything else is a 500 with a JSON body
and the traceback in the server log only. The OpenAPI schema documents each of these answers.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from modeldeck.errors import ModeldeckError
from modeldeck.server.errors import status_for, to_body
from modeldeck.store import faults

log = logging.getLogger(__name__)

ERROR_SCHEMA = {
    "title": "ErrorBody",
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "description": "modeldeck's error class"},
                "message": {"type": "string"},
                "hint": {"type": ["string", "null"], "description": "what to do about it"},
            },
            "required": ["type", "message"],
        }
    },
    "required": ["error"],
}
ERROR_DESCRIPTIONS = {
    400: "Bad input (the message says what is wrong and what is allowed), or an unknown Host",
    401: "No API token, or one the server does not know",
    403: "The token's principal may not do this (role, workspace or model permission)",
    404: "No such deployment or request",
    409: "Conflicts with the current state (already decided, own request...)",
    413: "The request body is larger than server.max_body_bytes",
    422: "The body or parameters do not match the schema",
    503: "The store is unavailable, nothing was lost, try again",
}


def install_error_handlers(app: FastAPI, counters: Counter[str]) -> None:
    """Register the JSON error answers for modeldeck errors, store faults and the unexpected."""

    @app.exception_handler(ModeldeckError)
    async def _modeldeck_error(_: Request, exc: ModeldeckError) -> JSONResponse:
        counters[f"errors_{type(exc).__name__}"] += 1
        return JSONResponse(to_body(exc), status_code=status_for(exc))

    @app.exception_handler(faults.DatabaseError)
    async def _store_error(request: Request, exc: Exception) -> JSONResponse:
        if not faults.is_store_fault(exc):
            return _unexpected(request, exc)
        err = faults.store_unavailable(exc)
        counters["errors_StoreUnavailable"] += 1
        log.warning("%s %s: %s", request.method, request.url.path, err.message)
        return JSONResponse(to_body(err), status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        return _unexpected(request, exc)

    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        counters["errors_unexpected"] += 1
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        body = {
            "error": {
                "type": "ModeldeckRuntimeError",
                "message": f"The server failed unexpectedly ({type(exc).__name__}).",
                "hint": "The server log has the details; nothing was changed if this repeats.",
            }
        }
        return JSONResponse(body, status_code=500)


def _errors_for(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """Which errors an operation can answer with, from what it takes."""
    if not (path.startswith("/api/") or path == "/metrics"):
        return []
    codes = [400, 401, 403, 503]
    if "{" in path:
        codes.append(404)
    if method in ("post", "put", "patch"):
        codes += [413, 422]
    elif operation.get("parameters"):
        codes.append(422)
    if path.startswith("/api/requests"):
        codes.append(409)
    return sorted(set(codes))


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema list every error answer of every route, with the error body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/ErrorBody"}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in _errors_for(path, method, operation):
                    if code == 422 and "422" in responses:
                        continue  # FastAPI's own validation-error schema
                    responses[str(code)] = {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
