"""Open the deck the configuration names: in-process, or a `RemoteDeck` when a server URL is set."""

from __future__ import annotations

from typing import Any


def open_deck(settings: Any = None) -> Any:
    """The in-process deck, or a RemoteDeck when a server URL is configured."""
    from modeldeck.settings import load_settings

    settings = settings or load_settings()
    if settings.server.url:
        from modeldeck.identity.credentials import presented_token
        from modeldeck.server.client import RemoteDeck

        # the team CLI acts as its token's principal (MODELDECK_TOKEN, [server] token, a file)
        return RemoteDeck(settings.server.url, presented_token(settings))
    from modeldeck.deck import Deck

    return Deck(settings)
