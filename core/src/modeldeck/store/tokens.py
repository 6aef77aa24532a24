"""API token rows (only hashes are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modeldeck.store.models import ApiTokenRow


def insert(session: Session, token_id: str, principal: str, digest: str, now: datetime) -> None:
    session.add(ApiTokenRow(id=token_id, principal=principal, token_hash=digest, created_at=now))


def by_hash(session: Session, digest: str) -> ApiTokenRow | None:
    return session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))


def all_tokens(session: Session) -> list[ApiTokenRow]:
    return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at)))


def get(session: Session, token_id: str) -> ApiTokenRow | None:
    return session.get(ApiTokenRow, token_id)
