"""Reading what Slack sends with a click, a shortcut or a submission (who, where, which value)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Ack = Callable[..., Awaitable[Any]]


def user_of(body: dict[str, Any]) -> str:
    """The Slack user who clicked, submitted or used the shortcut."""
    return str((body.get("user") or {}).get("id") or "")


def channel_of(body: dict[str, Any]) -> str | None:
    """The channel a click or shortcut came from (None in App Home and modals)."""
    container = body.get("container") or {}
    found = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return str(found) if found else None


def action_value(body: dict[str, Any]) -> str:
    """The clicked button's value, or the chosen option's (overflow menus, selects)."""
    action = (body.get("actions") or [{}])[0]
    option = action.get("selected_option") or {}
    return str(option.get("value") or action.get("value") or "")
