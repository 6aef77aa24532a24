"""Per-deployment, per-minute usage (the console's TPM statistics): rebuild and read.

The writer keeps `usage_minutes` up to date incrementally; `rollup` rebuilds a time range from
`usage_calls` (after an import, a repair or a change of rules) and `minute_stats` reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from modeldeck.errors import ValidationFailed
from modeldeck.metering.persist import CALLS, MINUTES, MinuteDelta, minute_of
from modeldeck.metering.records import CallRecord
from modeldeck.money import DecimalStr
from modeldeck.store import Store

MINUTE = timedelta(minutes=1)
MAX_FILL = timedelta(days=31)


class MinuteStats(BaseModel):
    """One deployment's usage in one minute (UTC); overflow cost excludes unpriced calls."""

    model_config = ConfigDict(frozen=True)

    deployed_model: str
    minute: datetime
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    overflow_calls: int = 0
    overflow_input_tokens: int = 0
    overflow_output_tokens: int = 0
    overflow_cost: DecimalStr = Decimal(0)
    unpriced_overflow_calls: int = 0
    errors: int = 0

    @property
    def tokens(self) -> int:
        """Input plus output tokens in the minute: its TPM."""
        return self.input_tokens + self.output_tokens


def _range(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """[first minute, end) in UTC: `since` floored to its minute, `until` rounded up to one."""
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValidationFailed(
                f"{name} must be a timezone-aware datetime, not {value!r}.",
                hint="Use e.g. datetime(2026, 3, 1, 10, 0, tzinfo=modeldeck.timeutil.BEIJING).",
            )
    start = minute_of(since.astimezone(UTC))
    end = minute_of(until.astimezone(UTC))
    if end < until.astimezone(UTC):
        end += MINUTE
    if end < start:
        raise ValidationFailed(
            f"until ({until.isoformat()}) is before since ({since.isoformat()})."
        )
    return start, end


def _record(row: object) -> CallRecord:
    mapping = row._mapping  # type: ignore[attr-defined]
    return CallRecord(**{k: mapping[k] for k in mapping if k != "id"})


def rollup(store: Store, since: datetime, until: datetime) -> int:
    """Rebuild `usage_minutes` for every minute touching [since, until) from `usage_calls`.

    Returns how many minute rows were written. Safe next to live writers: the minute table is
    locked first (PostgreSQL: LOCK TABLE; SQLite: the write lock the DELETE takes), so a batch
    committed before is counted once and a batch committing after adds to the rebuilt rows.
    """
    start, end = _range(since, until)
    with store.session() as session:
        if store.dialect == "postgresql":
            session.connection().exec_driver_sql("LOCK TABLE usage_minutes IN EXCLUSIVE MODE")
        session.execute(delete(MINUTES).where(MINUTES.c.minute >= start, MINUTES.c.minute < end))
        deltas: dict[tuple[str, datetime], MinuteDelta] = {}
        query = select(CALLS).where(CALLS.c.at >= start, CALLS.c.at < end)
        for row in session.execute(query.execution_options(yield_per=2000)):
            rec = _record(row)
            key = (rec.deployed_model, minute_of(rec.at.astimezone(UTC)))
            deltas.setdefault(key, MinuteDelta()).add(rec)
        rows = [
            {
                "deployed_model": dm,
                "minute": minute,
                **delta.counters(),
                "overflow_cost": delta.overflow_cost,
            }
            for (dm, minute), delta in sorted(deltas.items())
        ]
        if rows:
            session.execute(MINUTES.insert(), rows)
    return len(rows)


def minute_stats(
    store: Store, deployed_model: str, since: datetime, until: datetime, *, fill: bool = False
) -> list[MinuteStats]:
    """A deployment's minutes touching [since, until), oldest first.

    `fill=True` adds all-zero rows for minutes without calls (a continuous TPM series).
    """
    start, end = _range(since, until)
    with store.session() as session:
        rows = session.execute(
            select(MINUTES)
            .where(
                MINUTES.c.deployed_model == deployed_model,
                MINUTES.c.minute >= start,
                MINUTES.c.minute < end,
            )
            .order_by(MINUTES.c.minute)
        ).all()
        unpriced_at = session.scalars(
            select(CALLS.c.at).where(
                CALLS.c.deployed_model == deployed_model,
                CALLS.c.at >= start,
                CALLS.c.at < end,
                CALLS.c.overflow.is_(True),
                CALLS.c.cost.is_(None),
                CALLS.c.error.is_(None),
                CALLS.c.status_code < 400,
                CALLS.c.status_code > 0,
            )
        ).all()
    unpriced: dict[datetime, int] = {}
    for at in unpriced_at:
        minute = minute_of(at.astimezone(UTC))
        unpriced[minute] = unpriced.get(minute, 0) + 1
    stats = {
        row.minute: MinuteStats(
            **{k: v for k, v in row._mapping.items()},
            unpriced_overflow_calls=unpriced.get(row.minute, 0),
        )
        for row in rows
    }
    if fill:
        if end - start > MAX_FILL:
            raise ValidationFailed(
                f"fill=True covers at most {MAX_FILL.days} days of minutes; "
                f"{since.isoformat()} to {until.isoformat()} is longer.",
                hint="Ask for a shorter range, or leave fill off to get only minutes with calls.",
            )
        minute = start
        while minute < end:
            stats.setdefault(minute, MinuteStats(deployed_model=deployed_model, minute=minute))
            minute += MINUTE
    return [stats[m] for m in sorted(stats)]
