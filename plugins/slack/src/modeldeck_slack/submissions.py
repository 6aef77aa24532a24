"""Idempotency keys for what Slack submits, so a replayed delivery makes no second request.

Slack gives every slash command and every modal its own id (`trigger_id`, the view's `id`); a
replay of the same signed request (within Bolt's 5-minute timestamp window) or a retried delivery
carries the same id, so the deck answers with the first request and posts no second card.
"""

from __future__ import annotations

import hashlib
from typing import Any

# The deck accepts keys of at most 200 printable characters; longer ids are hashed.
MAX_PLAIN = 150


def command_key(command: dict[str, Any]) -> str | None:
    """The key of one `/deck` invocation: its `trigger_id`, else a hash of who typed what where
    and its `response_url` (unique per invocation); None when Slack sent neither."""
    trigger = str(command.get("trigger_id") or "")
    if trigger:
        return _key("trigger", trigger)
    url = str(command.get("response_url") or "")
    if not url:
        return None
    parts = ("team_id", "user_id", "channel_id", "command", "text")
    return _key("command", "\n".join([*(str(command.get(p) or "") for p in parts), url]))


def view_key(view: dict[str, Any]) -> str | None:
    """The key of one modal's submission: the view's id (a modal is submitted once)."""
    view_id = str(view.get("id") or "")
    return _key("view", view_id) if view_id else None


def _key(kind: str, value: str) -> str:
    if len(value) <= MAX_PLAIN and value.isprintable():
        return f"slack-{kind}:{value}"
    return f"slack-{kind}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"
