"""How modeldeck errors travel over HTTP and back into the same exception classes."""

from __future__ import annotations

from typing import Any

from modeldeck import errors

STATUS_BY_CLASS: dict[type[errors.ModeldeckError], int] = {
    errors.NotLinked: 403,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.ConflictError: 409,
    errors.UserError: 400,
    errors.ModeldeckRuntimeError: 502,
}


def status_for(exc: errors.ModeldeckError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_CLASS:
            return STATUS_BY_CLASS[cls]
    return 500


def to_body(exc: errors.ModeldeckError) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}


def from_body(status: int, body: Any) -> errors.ModeldeckError:
    """Rebuild the exception a server raised (same class when it is one of ours)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return errors.ModeldeckRuntimeError(f"The modeldeck server answered HTTP {status}.")
    cls = getattr(errors, str(err.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ModeldeckError)):
        cls = errors.UserError if 400 <= status < 500 else errors.ModeldeckRuntimeError
    return cls(str(err.get("message", "")), hint=err.get("hint"))
