"""Metered calls as the cost queries read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modeldeck.store.models import UsageCallRow


def successful_calls(session: Session, deployed_model: str) -> list[UsageCallRow]:
    """A deployment's answered calls (HTTP < 400), the ones that can bill overflow."""
    return list(
        session.scalars(
            select(UsageCallRow).where(
                UsageCallRow.deployed_model == deployed_model, UsageCallRow.status_code < 400
            )
        )
    )
