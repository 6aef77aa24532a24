"""Raised alerts: one claimed row per dedup key (kind, scope, period), so replicas agree.

`raise_due` inserts each candidate with INSERT .. ON CONFLICT DO NOTHING on the unique key and
returns only the rows this call inserted: of two evaluators racing, exactly one raises an alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from modeldeck.alerts.models import AlertCandidate, RaisedAlert
from modeldeck.store.models import Base
from modeldeck.store.types import UTCDateTime
from modeldeck.timeutil import utcnow


class AlertRow(Base):
    """An alert that was raised (claimed once, whichever replica evaluated it first)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    scope: Mapped[str] = mapped_column(String(240))
    period: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    raised_by: Mapped[str | None] = mapped_column(String(120))


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(AlertRow)
    if dialect == "sqlite":
        return sqlite.insert(AlertRow)
    raise NotImplementedError(f"alerts need SQLite or PostgreSQL, not {dialect}")


def _raised(row: AlertRow) -> RaisedAlert:
    return RaisedAlert(
        id=row.id,
        kind=row.kind,
        scope=row.scope,
        period=row.period,
        severity=row.severity,
        title=row.title,
        text=row.text,
        at=row.at,
        data=row.data or {},
        raised_at=row.raised_at,
    )


def raise_due(
    session: Session,
    candidates: Iterable[AlertCandidate],
    *,
    raised_by: str | None = None,
    now: datetime | None = None,
) -> list[RaisedAlert]:
    """Claim each candidate's dedup key; return the alerts newly raised by this call (in order).

    Already-raised keys (by an earlier run or another replica) are skipped silently.
    """
    when = now or utcnow()
    out: list[RaisedAlert] = []
    seen: set[str] = set()
    for c in candidates:
        if c.key in seen:
            continue
        seen.add(c.key)
        values = {
            "dedup_key": c.key,
            "kind": c.kind,
            "scope": c.scope,
            "period": c.period,
            "severity": c.severity,
            "title": c.title,
            "text": c.text,
            "data": dict(c.data),
            "at": c.at,
            "raised_at": when,
            "raised_by": raised_by,
        }
        stmt = (
            _insert(session)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(AlertRow.id)
        )
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            row = session.get(AlertRow, new_id)
            assert row is not None
            out.append(_raised(row))
    return out


def list_alerts(session: Session, since: datetime | None = None) -> list[RaisedAlert]:
    """Raised alerts, oldest first (those raised at or after `since` when given)."""
    query = select(AlertRow).order_by(AlertRow.id)
    if since is not None:
        query = query.where(AlertRow.raised_at >= since)
    return [_raised(row) for row in session.scalars(query)]
