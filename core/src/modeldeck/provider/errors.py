"""Model Studio errors as one catchable hierarchy, mapped from HTTP status and the body's `code`.

Every class derives from :class:`ProviderError` (a :class:`ModeldeckRuntimeError`); the ones a
person can fix (bad parameter, permission, unknown deployment, conflict, bad key) also derive from
the matching :class:`modeldeck.errors.UserError` subclass, so surfaces show them as plain messages.
Texts never contain the API key: the client redacts it before building an error.
"""

from __future__ import annotations

from typing import Any

from modeldeck.errors import (
    ConfigError,
    ConflictError,
    ModeldeckRuntimeError,
    NotFound,
    PermissionDenied,
    UserError,
    ValidationFailed,
)


class ProviderError(ModeldeckRuntimeError):
    """Model Studio answered with an error (or could not be reached)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts

    def __str__(self) -> str:
        details = [str(self.status_code)] if self.status_code is not None else []
        if self.code:
            details.append(self.code)
        if self.request_id:
            details.append(f"request_id {self.request_id}")
        text = f"Model Studio: {self.message}"
        if details:
            text += f" [{', '.join(details)}]"
        return f"{text} {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[ProviderError], message: str, state: dict[str, Any]) -> ProviderError:
    """Unpickle helper (keyword-only constructor arguments defeat the default protocol)."""
    err = cls(message)
    err.__dict__.update(state)
    return err


class InvalidParameterError(ProviderError, ValidationFailed):
    """400 `InvalidParameter`: the request body or a parameter is not allowed."""


class ArrearageError(ProviderError, UserError):
    """400 `Arrearage`: the Alibaba Cloud account is overdue."""


class AuthenticationError(ProviderError, ConfigError):
    """401 `InvalidApiKey`: the API key is missing or wrong."""


class ProviderPermissionError(ProviderError, PermissionDenied):
    """403 `AccessDenied` / `Workspace.AccessDenied` / `Model.AccessDenied`."""


class ProviderNotFound(ProviderError, NotFound):
    """404 `NotFound` / `ModelNotFound`: no such deployment (or model)."""


class ProviderConflict(ProviderError, ConflictError):
    """409 `Conflict`: e.g. the model is already deployed and no new suffix was given."""


class ThrottlingError(ProviderError):
    """429 `Throttling*`: rate or quota exceeded; `retry_after` says when to try again, if known."""


class ServerError(ProviderError):
    """5xx `InternalError` / `ModelServingError`: Model Studio failed; retrying later may help."""


class ProviderConnectionError(ProviderError):
    """No HTTP answer: connection refused, dropped or reset."""


class ProviderTimeout(ProviderConnectionError):
    """No answer within the client's timeout."""


# -- creates: what a lost answer turned out to mean ------------------------------------------


class CreateNotApplied(ProviderError):
    """A create whose answer was lost, and a look-up proved Model Studio has no such deployment.

    Nothing was bought: the request may be marked failed (and retried as a new create).
    `deployed_model` is the code that was looked for; `__cause__` is the lost answer's error.
    """

    def __init__(self, message: str, *, deployed_model: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.deployed_model = deployed_model


class CreateOutcomeUnknown(ProviderError):
    """A create whose answer was lost, and the look-up could not be done either.

    A deployment may exist and bill: keep the request (never mark it failed, never send the create
    again with another suffix) and reconcile later by looking `deployed_model` up.
    """

    def __init__(self, message: str, *, deployed_model: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.deployed_model = deployed_model


# -- PTU reservations: capacity instances and operations -----------------------------------


class CapacityMismatch(ProviderError):
    """The capacity read back after a create or scale is not what was asked for: an alarm."""

    def __init__(
        self,
        message: str,
        *,
        deployed_model: str = "",
        expected: dict[str, int] | None = None,
        actual: dict[str, int] | None = None,
        deployment: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.deployed_model = deployed_model
        self.expected = expected or {}
        self.actual = actual or {}
        # After a create: the DeploymentInfo of the deployment that exists (and bills).
        self.deployment = deployment


class OperationFailed(ProviderError):
    """A capacity operation ended FAILED (possibly inside an HTTP 200): nothing changed."""

    def __init__(self, message: str, *, operation_id: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.operation_id = operation_id


class OperationPending(ProviderError):
    """A capacity operation was still running when the client stopped waiting: poll it later."""

    def __init__(self, message: str, *, operation_id: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.operation_id = operation_id


class CapacityInstanceRequired(ProviderError, ValidationFailed):
    """`CAPACITY_INSTANCE_REQUIRED`: the code has several instances; name the one to change."""


class OperationUnsupported(ProviderError, ValidationFailed):
    """`CAPACITY_INSTANCE_OPERATION_UNSUPPORTED`: e.g. renewing a post-paid instance."""


class PrepaidUnsubscribeRequired(ProviderError, UserError):
    """`PREPAID_UNSUBSCRIBE_REQUIRED`: a live prepaid instance is ended in the console only."""


class PostpaidInstanceExists(ProviderError, ConflictError):
    """`POSTPAID_INSTANCE_ALREADY_EXISTS`: at most one undeleted post-paid instance per code."""


class CapacityLimitExceeded(ProviderError, UserError):
    """`CAPACITY_SLOT_LIMIT_EXCEEDED` / `TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED`."""


class ModelCodeDeleted(ProviderError, NotFound):
    """`MODEL_CODE_DELETED`: the deployment was deleted; it cannot be changed any more."""


class CapacityInstanceNotFound(ProviderError, NotFound):
    """`CAPACITY_INSTANCE_NOT_FOUND`."""


class CapacityOperationNotFound(ProviderError, NotFound):
    """`CAPACITY_OPERATION_NOT_FOUND`."""


class OperationConflict(ProviderError, ConflictError):
    """`CAPACITY_INSTANCE_OPERATION_CONFLICT`: another change on this code is running; wait."""


class IdempotencyKeyConflict(ProviderError, ConflictError):
    """`IDEMPOTENCY_KEY_CONFLICT`: the request id was used before with other parameters."""


class BillingAccountNotReady(ProviderError, UserError):
    """`BILLING_ACCOUNT_NOT_READY`: the account cannot buy yet (payment method, real name)."""


class BillingServiceUnavailable(ServerError):
    """`BILLING_SERVICE_UNAVAILABLE`: billing is down; retrying later may help."""


_BY_CODE: dict[str, type[ProviderError]] = {
    "CAPACITY_INSTANCE_REQUIRED": CapacityInstanceRequired,
    "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED": OperationUnsupported,
    "PREPAID_UNSUBSCRIBE_REQUIRED": PrepaidUnsubscribeRequired,
    "POSTPAID_INSTANCE_ALREADY_EXISTS": PostpaidInstanceExists,
    "CAPACITY_SLOT_LIMIT_EXCEEDED": CapacityLimitExceeded,
    "TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED": CapacityLimitExceeded,
    "MODEL_CODE_DELETED": ModelCodeDeleted,
    "MODEL_CODE_NOT_FOUND": ProviderNotFound,
    "CAPACITY_INSTANCE_NOT_FOUND": CapacityInstanceNotFound,
    "CAPACITY_OPERATION_NOT_FOUND": CapacityOperationNotFound,
    "CAPACITY_INSTANCE_OPERATION_CONFLICT": OperationConflict,
    "IDEMPOTENCY_KEY_CONFLICT": IdempotencyKeyConflict,
    "BILLING_ACCOUNT_NOT_READY": BillingAccountNotReady,
    "BILLING_SERVICE_UNAVAILABLE": BillingServiceUnavailable,
}

_BY_STATUS: dict[int, type[ProviderError]] = {
    400: InvalidParameterError,
    401: AuthenticationError,
    403: ProviderPermissionError,
    404: ProviderNotFound,
    409: ProviderConflict,
    429: ThrottlingError,
}

_HINTS: dict[type[ProviderError], str] = {
    AuthenticationError: "Check DASHSCOPE_API_KEY (or [provider] api_key in modeldeck.toml).",
    ArrearageError: "Settle the overdue payment in the Alibaba Cloud console, then retry.",
    PrepaidUnsubscribeRequired: (
        "A prepaid (upfront) instance cannot be released through the API: unsubscribe it in "
        "the Alibaba Cloud console (Expenses > Unsubscribe), where the refund is settled, then "
        "unpublish."
    ),
    CapacityInstanceRequired: "Name the capacity instance to change (instance_id=...).",
    OperationConflict: "Another capacity change on this deployment is running; try again later.",
    BillingAccountNotReady: "Finish the account's billing setup in the Alibaba Cloud console.",
}


def error_class(status_code: int, code: str | None) -> type[ProviderError]:
    """The exception class for an HTTP status and a Model Studio error code."""
    if code and code.upper() in _BY_CODE:
        return _BY_CODE[code.upper()]
    lowered = (code or "").lower()
    if lowered in {"invalidapikey", "invalid_api_key"}:
        return AuthenticationError
    if lowered == "arrearage":
        return ArrearageError
    if lowered.startswith("throttling") or lowered in {"rate_limit_exceeded", "insufficient_quota"}:
        return ThrottlingError
    if lowered in {"notfound", "modelnotfound", "model_not_found"}:
        return ProviderNotFound
    if lowered.endswith("accessdenied") or lowered == "access_denied":
        return ProviderPermissionError
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, ProviderError)


def make_error(
    status_code: int,
    code: str | None,
    message: str,
    request_id: str | None,
    *,
    retry_after: float | None = None,
    attempts: int = 1,
) -> ProviderError:
    """Build the right :class:`ProviderError` subclass for an error answer."""
    cls = error_class(status_code, code)
    return cls(
        message,
        status_code=status_code,
        code=code,
        request_id=request_id,
        hint=_HINTS.get(cls),
        retry_after=retry_after,
        attempts=attempts,
    )
