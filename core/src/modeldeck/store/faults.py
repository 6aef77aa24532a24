"""Turning the store's infrastructure failures into one clear, retryable error.

A dropped PostgreSQL connection, an unreachable database, a full disk or a read-only SQLite file
all surface from SQLAlchemy as DBAPI errors with driver-specific text. They become
`StoreUnavailable` ("the store is unavailable, nothing was lost, try again"): the server answers
503 with it and the CLI prints it as one line (exit 2), instead of "Internal Server Error" or
"Unexpected error".
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from modeldeck import masking
from modeldeck.errors import StoreUnavailable

# What the server registers its store-fault handler for (so server/ never imports SQLAlchemy).
DatabaseError = sa_exc.SQLAlchemyError

STORE_UNAVAILABLE = "The store is unavailable, nothing was lost, try again"
HINT = (
    "Check that the database (database_url / MODELDECK_DATABASE_URL) is reachable and its disk "
    "has room and is writable, then retry."
)


def is_store_fault(exc: BaseException) -> bool:
    """Whether `exc` is the store failing (not a bug in a query or a constraint breach)."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa_exc.DisconnectionError)


def store_unavailable(exc: BaseException) -> StoreUnavailable:
    """The `StoreUnavailable` for a store fault, naming the driver's first line (never SQL)."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    detail = masking.mask(f"{type(orig).__name__}: {first}")
    return StoreUnavailable(f"{STORE_UNAVAILABLE} ({detail}).", hint=HINT)


def user_facing(exc: BaseException) -> BaseException:
    """`exc`, or the `StoreUnavailable` it stands for when it is a store fault."""
    return store_unavailable(exc) if is_store_fault(exc) else exc
