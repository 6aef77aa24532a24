"""API token rows (only hashes are stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from modeldeck.store.models import ApiTokenRow


def insert(session: Session, token_id: str, principal: str, digest: str, now: datetime) -> None:
    session.add(ApiTokenRow(id=token_id, principal=principal, token_hash=digest, created_at=now))


def by_hash(session: Session, digest: str) -> ApiTokenRow | None:
    return session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))


def owner(engine: Engine, digest: str) -> tuple[str, datetime | None, str] | None:
    """(hash, revoked at, principal) of the token with this digest, read on a plain connection:
    every REST call authenticates, and an ORM session cost as much as answering the read."""
    query = select(ApiTokenRow.token_hash, ApiTokenRow.revoked_at, ApiTokenRow.principal).where(
        ApiTokenRow.token_hash == digest
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (row[0], row[1], row[2])


def all_tokens(session: Session) -> list[ApiTokenRow]:
    return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at)))


def get(session: Session, token_id: str) -> ApiTokenRow | None:
    return session.get(ApiTokenRow, token_id)
