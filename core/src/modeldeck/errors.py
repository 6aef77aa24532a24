"""One error hierarchy for modeldeck: user mistakes apart from runtime failures.

`UserError` and its subclasses are things the person can fix (bad input, missing permission,
unknown model); surfaces show their message as-is and exit with code 2. `ModeldeckRuntimeError`
covers failures of the machinery (provider down, store unreachable). Messages never contain secrets.
"""

from __future__ import annotations


class ModeldeckError(Exception):
    """Base of every error modeldeck raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class UserError(ModeldeckError):
    """The input was wrong; the message says what was wrong and what is allowed."""


class GrammarError(UserError):
    """A command did not parse."""


class ValidationFailed(UserError):
    """A command parsed but asks for something not allowed (capacity, plan, limits...)."""


class CatalogError(UserError):
    """An unknown model, mode or plan, or a price that is not listed."""


class PriceNotListed(CatalogError):
    """An estimate needs a price the catalog does not list (never priced as zero)."""


class CurrencyMismatch(UserError):
    """Two amounts in different currencies were combined without a configured rate."""


class NotFound(UserError):
    """A deployment, request or principal that does not exist."""


class PermissionDenied(UserError):
    """The actor may not do this (role, workspace permission or model privilege)."""


class NotLinked(PermissionDenied):
    """A Slack or notebook user that maps to no configured principal."""


class ConflictError(UserError):
    """The action conflicts with the current state (already decided, billing method change...)."""


class ConfigError(UserError):
    """The configuration file or environment is invalid."""


class ModeldeckRuntimeError(ModeldeckError):
    """Something in the machinery failed; retrying later may help."""


class StoreError(ModeldeckRuntimeError):
    """The store could not be read or written."""


class StoreUnavailable(StoreError):
    """The store could not be reached or written (connection dropped, disk full, read-only).

    The transaction rolled back, so nothing already saved was lost; retrying later may work.
    """


class Unauthenticated(PermissionDenied):
    """No API token, or one the server does not know (HTTP 401, unlike a missing role's 403)."""


class RequestTooLarge(UserError):
    """A request body over the server's configured limit (HTTP 413)."""
