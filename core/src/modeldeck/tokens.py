"""Personal REST tokens: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from modeldeck.errors import NotFound, PermissionDenied
from modeldeck.store import Store, repo
from modeldeck.store.models import ApiTokenRow
from modeldeck.timeutil import utcnow

PREFIX = "mdk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: Store, principal: str) -> tuple[str, str]:
    """A new token for `principal`: returns (token id, the token itself, to show once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = repo.new_id("tok")
    with store.session() as session:
        session.add(
            ApiTokenRow(
                id=token_id, principal=principal, token_hash=_digest(token), created_at=utcnow()
            )
        )
        repo.audit(session, actor=principal, surface="cli", action="token_create", subject=token_id)
    return token_id, token


def principal_for(store: Store, token: str) -> str:
    """The principal a presented token belongs to; PermissionDenied when unknown or revoked."""
    digest = _digest(token)
    with store.session() as session:
        row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        raise PermissionDenied(
            "The API token is unknown or revoked.",
            hint="Create one with `modeldeck token create <principal>`.",
        )
    return row.principal


def list_tokens(store: Store) -> list[dict[str, str | None]]:
    with store.session() as session:
        rows = list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at)))
    return [
        {
            "id": r.id,
            "principal": r.principal,
            "created_at": r.created_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        }
        for r in rows
    ]


def revoke_token(store: Store, token_id: str) -> None:
    with store.session() as session:
        row = session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFound(f"No token {token_id!r}.", hint="`modeldeck token list` shows them.")
        row.revoked_at = row.revoked_at or utcnow()
        repo.audit(
            session, actor=row.principal, surface="cli", action="token_revoke", subject=token_id
        )
