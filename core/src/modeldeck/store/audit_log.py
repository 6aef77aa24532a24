"""The append-only audit log: events recorded in their change's transaction, and reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modeldeck.store.models import AuditRow
from modeldeck.store.repo import audit

if TYPE_CHECKING:
    from modeldeck.events import Event


def record_event(session: Session, event: Event) -> None:
    """Append the event's audit record (if it has one) in the caller's transaction."""
    entry = event.audit_entry()
    if entry is None:
        return
    audit(
        session,
        actor=entry.actor,
        surface=entry.surface,
        action=entry.action,
        subject=entry.subject,
        cost_estimate=entry.cost_estimate,
        **entry.detail,
    )


def status_changed_at(session: Session, subject: str, new: str) -> Any:
    """When the reconciler last saw `subject` move into status `new` (None: never)."""
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.action == "status", AuditRow.subject == subject)
        .order_by(AuditRow.id.desc())
    )
    for row in rows:
        if (row.detail or {}).get("new") == new and (row.detail or {}).get("old") != new:
            return row.at
    return None


def newest_first(session: Session, *, limit: int = 0, subject: str | None = None) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.id.desc())
    if subject:
        query = query.where(AuditRow.subject == subject)
    if limit > 0:
        query = query.limit(limit)
    return list(session.scalars(query))


def last_config_digests(session: Session) -> dict[str, Any]:
    """The section digests of the newest `config` record ({} before the first)."""
    last = session.scalar(
        select(AuditRow).where(AuditRow.action == "config").order_by(AuditRow.id.desc())
    )
    return dict(last.detail.get("digests", {})) if last else {}
