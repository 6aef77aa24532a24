"""How modeldeck errors travel over HTTP and back into the same exception classes.

The body names the error's class and the modeldeck classes it derives from, so the client rebuilds
the same class (provider errors included) or, for a class it does not know, the nearest one it does
(a plugin's NotFound subclass still arrives as NotFound, never as a bare UserError).
"""

from __future__ import annotations

from typing import Any

from modeldeck import errors
from modeldeck.provider import errors as provider_errors

STATUS_BY_CLASS: dict[type[errors.ModeldeckError], int] = {
    errors.Unauthenticated: 401,
    errors.RequestTooLarge: 413,
    errors.StoreUnavailable: 503,
    errors.NotLinked: 403,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.ConflictError: 409,
    errors.UserError: 400,
    errors.ModeldeckRuntimeError: 502,
}


def _known_classes() -> dict[str, type[errors.ModeldeckError]]:
    out: dict[str, type[errors.ModeldeckError]] = {}
    for module in (errors, provider_errors):
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, errors.ModeldeckError):
                out[name] = value
    return out


KNOWN = _known_classes()


def status_for(exc: errors.ModeldeckError) -> int:
    """The HTTP status: what the person can fix wins over "the machinery failed"."""
    mro = type(exc).__mro__
    if isinstance(exc, errors.UserError):  # e.g. ProviderNotFound is a NotFound: 404, not 502
        mro = tuple(c for c in mro if c is not errors.ModeldeckRuntimeError)
    for cls in mro:
        if cls in STATUS_BY_CLASS:
            return STATUS_BY_CLASS[cls]
    return 500


def to_body(exc: errors.ModeldeckError) -> dict[str, Any]:
    bases = [c.__name__ for c in type(exc).__mro__[1:] if c.__name__ in KNOWN]
    return {
        "error": {
            "type": type(exc).__name__,
            "bases": bases,
            "message": exc.message,
            "hint": exc.hint,
        }
    }


def from_body(status: int, body: Any) -> errors.ModeldeckError:
    """Rebuild the exception a server raised (same class when it is one we know)."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return errors.ModeldeckRuntimeError(f"The modeldeck server answered HTTP {status}.")
    names = [str(err.get("type")), *(str(b) for b in err.get("bases") or [])]
    cls = next((KNOWN[n] for n in names if n in KNOWN), None)
    if cls is None:  # a server older than `bases`, or a class of a plugin this side lacks
        by_status: dict[int, type[errors.ModeldeckError]] = {
            403: errors.PermissionDenied,
            404: errors.NotFound,
            409: errors.ConflictError,
        }
        fallback = errors.UserError if 400 <= status < 500 else errors.ModeldeckRuntimeError
        cls = by_status.get(status, fallback)
    return cls(str(err.get("message", "")), hint=err.get("hint"))
