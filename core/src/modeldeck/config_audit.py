"""Audit configuration changes: each section of the policy-relevant config, by digest."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from modeldeck import events
from modeldeck.settings import Settings
from modeldeck.store import Store, audit_log

AUDITED = ("principals", "workspace", "policy", "catalog", "currency_rates", "billing")


def section_digests(settings: Settings) -> dict[str, str]:
    """A short digest per audited section (no secrets live in these sections)."""
    dumped = settings.model_dump(mode="json", include=set(AUDITED))
    return {
        key: hashlib.sha256(json.dumps(dumped.get(key), sort_keys=True).encode()).hexdigest()[:16]
        for key in AUDITED
    }


def record_config_change(
    store: Store, settings: Settings, actor: str = "config", *, deck: Any = None
) -> list[str]:
    """Append an audit record when any audited section differs from the last one recorded.

    Returns the names of the sections that changed (all of them the first time).
    """
    now = section_digests(settings)
    event = None
    with store.session() as session:
        before = audit_log.last_config_digests(session)
        changed = [key for key in AUDITED if before.get(key) != now[key]]
        if changed:
            event = events.ConfigChanged(
                actor=actor,
                sections=changed,
                digests=now,
                values={k: settings.model_dump(mode="json", include={k}).get(k) for k in changed},
            )
            audit_log.record_event(session, event)
    if event is not None and deck is not None:
        events.publish(event, deck)
    return changed
