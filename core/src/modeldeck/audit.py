"""Reading the append-only audit log (writes go through `store.repo.audit`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modeldeck.store import Store
from modeldeck.store.models import AuditRow
from modeldeck.timeutil import iso, to_beijing


def read_audit(store: Store, *, limit: int = 0, subject: str | None = None) -> list[dict[str, Any]]:
    """Audit records oldest first (the newest `limit` when limit > 0), as JSON-able dicts."""
    with store.session() as session:
        query = select(AuditRow).order_by(AuditRow.id.desc())
        if subject:
            query = query.where(AuditRow.subject == subject)
        if limit > 0:
            query = query.limit(limit)
        rows = list(session.scalars(query))
    return [
        {
            "id": r.id,
            "at": iso(r.at),
            "at_beijing": iso(to_beijing(r.at)),
            "actor": r.actor,
            "surface": r.surface,
            "action": r.action,
            "subject": r.subject,
            "cost_estimate": str(r.cost_estimate) if r.cost_estimate is not None else None,
            "detail": r.detail,
        }
        for r in reversed(rows)
    ]
