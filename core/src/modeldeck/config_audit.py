"""Audit configuration changes: each section of the policy-relevant config, by digest."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from modeldeck.settings import Settings
from modeldeck.store import Store, repo
from modeldeck.store.models import AuditRow

AUDITED = ("principals", "workspace", "policy", "catalog", "currency_rates", "billing")


def section_digests(settings: Settings) -> dict[str, str]:
    """A short digest per audited section (no secrets live in these sections)."""
    dumped = settings.model_dump(mode="json", include=set(AUDITED))
    return {
        key: hashlib.sha256(json.dumps(dumped.get(key), sort_keys=True).encode()).hexdigest()[:16]
        for key in AUDITED
    }


def record_config_change(store: Store, settings: Settings, actor: str = "config") -> list[str]:
    """Append an audit record when any audited section differs from the last one recorded.

    Returns the names of the sections that changed (all of them the first time).
    """
    now = section_digests(settings)
    with store.session() as session:
        last = session.scalar(
            select(AuditRow).where(AuditRow.action == "config").order_by(AuditRow.id.desc())
        )
        before: dict[str, Any] = dict(last.detail.get("digests", {})) if last else {}
        changed = [key for key in AUDITED if before.get(key) != now[key]]
        if changed:
            repo.audit(
                session,
                actor=actor,
                surface="system",
                action="config",
                subject=",".join(changed),
                digests=now,
                sections={k: settings.model_dump(mode="json", include={k}).get(k) for k in changed},
            )
    return changed
