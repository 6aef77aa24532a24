"""Read-only queries over the metering roll-ups for the capacity planner.

`usage_minutes` holds one row per deployment per UTC minute with calls; minutes without calls
have no row. `usage_calls` tells which models a deployment's calls named.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from modeldeck.store.models import UsageCallRow, UsageMinuteRow


class MinuteUsage(NamedTuple):
    """One roll-up row: the minute (aware UTC) and its token counters."""

    minute: datetime
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int


def minute_usage(
    session: Session, deployed_model: str, start: datetime, end: datetime
) -> list[MinuteUsage]:
    """A deployment's roll-up rows with start <= minute < end, oldest first."""
    rows = session.execute(
        select(
            UsageMinuteRow.minute,
            UsageMinuteRow.input_tokens,
            UsageMinuteRow.output_tokens,
            UsageMinuteRow.reasoning_tokens,
        )
        .where(
            UsageMinuteRow.deployed_model == deployed_model,
            UsageMinuteRow.minute >= start,
            UsageMinuteRow.minute < end,
        )
        .order_by(UsageMinuteRow.minute)
    ).all()
    return [MinuteUsage(*row) for row in rows]


def models_called(
    session: Session, deployed_model: str, start: datetime, end: datetime
) -> list[str]:
    """The distinct models the deployment's calls in [start, end) were metered as."""
    found = session.scalars(
        select(UsageCallRow.model)
        .where(
            UsageCallRow.deployed_model == deployed_model,
            UsageCallRow.at >= start,
            UsageCallRow.at < end,
            UsageCallRow.model.is_not(None),
        )
        .distinct()
    ).all()
    return sorted(m for m in found if m)
