"""Reading the append-only audit log (writes happen with each event, `store.audit_log`)."""

from __future__ import annotations

from typing import Any

from modeldeck.store import Store, audit_log
from modeldeck.timeutil import iso, to_beijing


def read_audit(store: Store, *, limit: int = 0, subject: str | None = None) -> list[dict[str, Any]]:
    """Audit records oldest first (the newest `limit` when limit > 0), as JSON-able dicts."""
    with store.session() as session:
        rows = audit_log.newest_first(session, limit=limit, subject=subject)
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
