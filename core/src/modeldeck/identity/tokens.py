"""Personal REST tokens: shown once at creation, stored only as a SHA-256 hash; changes audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from modeldeck import events
from modeldeck.errors import NotFound, PermissionDenied
from modeldeck.store import Store, audit_log, repo
from modeldeck.store import tokens as token_rows
from modeldeck.timeutil import utcnow

PREFIX = "mdk_"


class TokenGrant(BaseModel):
    """A token just created: the only answer that ever carries the token itself."""

    id: str
    principal: str
    token: SecretStr


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    store: Store, principal: str, *, deck: Any = None, by: str | None = None
) -> tuple[str, str]:
    """A new token for `principal`: returns (token id, the token itself, to show once).

    With `deck` given, the :class:`~modeldeck.events.TokenCreated` event also reaches plugins.
    """
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = repo.new_id("tok")
    event = events.TokenCreated(token_id=token_id, principal=principal, actor=by or principal)
    with store.session() as session:
        token_rows.insert(session, token_id, principal, _digest(token), utcnow())
        audit_log.record_event(session, event)
    if deck is not None:
        events.publish(event, deck)
    return token_id, token


def principal_for(store: Store, token: str) -> str:
    """The principal a presented token belongs to; PermissionDenied when unknown or revoked."""
    digest = _digest(token)
    found = token_rows.owner(store.engine, digest)
    if found is None or found[1] is not None or not hmac.compare_digest(found[0], digest):
        raise PermissionDenied(
            "The API token is unknown or revoked.",
            hint="Create one with `modeldeck token create <principal>`.",
        )
    return found[2]


def list_tokens(
    store: Store,
    *,
    deck: Any = None,
    by: str | None = None,
    surface: Literal["cli", "api"] = "cli",
) -> list[dict[str, str | None]]:
    """Every token's id, owner and dates (never the token), the listing audited (`token_list`)
    with who asked (`by`; "system" in open mode) in the same transaction."""
    with store.session() as session:
        rows = [
            {
                "id": r.id,
                "principal": r.principal,
                "created_at": r.created_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in token_rows.all_tokens(session)
        ]
        event = events.TokensListed(count=len(rows), actor=by or "system", surface=surface)
        audit_log.record_event(session, event)
    if deck is not None:
        events.publish(event, deck)
    return rows


def revoke_token(store: Store, token_id: str, *, deck: Any = None, by: str | None = None) -> None:
    with store.session() as session:
        row = token_rows.get(session, token_id)
        if row is None:
            raise NotFound(f"No token {token_id!r}.", hint="`modeldeck token list` shows them.")
        row.revoked_at = row.revoked_at or utcnow()
        event = events.TokenRevoked(
            token_id=token_id, principal=row.principal, actor=by or row.principal
        )
        audit_log.record_event(session, event)
    if deck is not None:
        events.publish(event, deck)
