"""Budgets set through the grammar (`budget set …`): one row per name, shared by replicas.

A stored budget overrides the configuration's budget of the same name, or adds one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from modeldeck.store.models import Base
from modeldeck.store.types import DecimalText, UTCDateTime


class BudgetRow(Base):
    """A budget an admin set with `budget set` (the configuration's are not stored)."""

    __tablename__ = "budgets"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    scope: Mapped[str] = mapped_column(String(240))
    amount_usd: Mapped[Decimal] = mapped_column(DecimalText())
    period: Mapped[str] = mapped_column(String(40))
    thresholds: Mapped[list[int]] = mapped_column(JSON, default=list)
    hard: Mapped[bool] = mapped_column(default=False)
    set_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def stored_budgets(session: Session) -> list[dict[str, Any]]:
    """Every stored budget as the fields of a `Budget` (by name)."""
    rows = session.scalars(select(BudgetRow).order_by(BudgetRow.name))
    return [
        {
            "name": r.name,
            "scope": r.scope,
            "amount_usd": r.amount_usd,
            "period": r.period,
            "thresholds": list(r.thresholds or []),
            "hard": r.hard,
        }
        for r in rows
    ]


def upsert_budget(
    session: Session, fields: dict[str, Any], set_by: str, now: datetime
) -> dict[str, Any] | None:
    """Store (or replace) a budget by name; returns what it replaced (None if it is new)."""
    row = session.get(BudgetRow, fields["name"], with_for_update=True)
    before = None
    if row is None:
        row = BudgetRow(name=fields["name"])
        session.add(row)
    else:
        before = {
            "scope": row.scope,
            "amount_usd": str(row.amount_usd),
            "period": row.period,
            "thresholds": list(row.thresholds or []),
            "hard": row.hard,
        }
    row.scope = str(fields["scope"])
    row.amount_usd = Decimal(fields["amount_usd"])
    row.period = str(fields["period"])
    row.thresholds = list(fields["thresholds"])
    row.hard = bool(fields["hard"])
    row.set_by = set_by
    row.updated_at = now
    return before
