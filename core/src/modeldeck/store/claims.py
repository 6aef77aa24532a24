"""Claimed rows: a key claimed once across replicas (INSERT .. ON CONFLICT DO NOTHING).

Surfaces use it for work that must happen once however many processes run: an Events API
delivery processed once (its `event_id`), a weekly digest posted once per week, an alert posted
once. `kind` groups keys so old ones can be listed and pruned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from modeldeck.store.models import Base
from modeldeck.store.types import UTCDateTime
from modeldeck.timeutil import utcnow


class ClaimRow(Base):
    """One claimed key (whoever inserted it first did the work it stands for)."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(120))


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(ClaimRow)
    if dialect == "sqlite":
        return sqlite.insert(ClaimRow)
    raise NotImplementedError(f"claims need SQLite or PostgreSQL, not {dialect}")


def claim(
    session: Session, kind: str, key: str, *, by: str | None = None, now: datetime | None = None
) -> bool:
    """Claim `key`: True for the one caller that inserted it, False for everyone after."""
    stmt = (
        _insert(session)
        .values(key=key, kind=kind, claimed_at=now or utcnow(), claimed_by=by)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ClaimRow.key)
    )
    return session.execute(stmt).scalar() is not None


def claimed(session: Session, kind: str, since: datetime | None = None) -> list[str]:
    """The keys of a kind, oldest first (claimed at or after `since` when given)."""
    query = select(ClaimRow.key).where(ClaimRow.kind == kind).order_by(ClaimRow.claimed_at)
    if since is not None:
        query = query.where(ClaimRow.claimed_at >= since)
    return list(session.scalars(query))


def release(session: Session, key: str) -> None:
    """Forget one claim (the work it stood for failed and may be tried again)."""
    session.execute(delete(ClaimRow).where(ClaimRow.key == key))


def prune(session: Session, kind: str, before: datetime) -> int:
    """Drop the claims of a kind older than `before`; how many were dropped."""
    result = session.execute(
        delete(ClaimRow).where(ClaimRow.kind == kind, ClaimRow.claimed_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
