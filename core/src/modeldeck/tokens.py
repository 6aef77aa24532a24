"""Moved to :mod:`modeldeck.identity.tokens` (kept so existing imports work)."""

from modeldeck.identity.tokens import PREFIX, create_token, list_tokens, principal_for, revoke_token

__all__ = ["PREFIX", "create_token", "list_tokens", "principal_for", "revoke_token"]
