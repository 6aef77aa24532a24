"""OAuth install to several workspaces (filled in below)."""

from __future__ import annotations

from typing import Any

from modeldeck.settings import Settings


def installed_bot_token(settings: Settings, deck: Any | None = None) -> str | None:
    """The bot token of the installed workspace the hooks post to (None: none installed)."""
    return None
