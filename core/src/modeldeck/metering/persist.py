"""Store writes of the metering writer: insert a batch of calls, fold it into minute roll-ups.

One transaction per batch. Calls are inserted with ON CONFLICT (call_id) DO NOTHING ... RETURNING,
so replaying a journal is idempotent and only the calls actually inserted are added to
`usage_minutes` (per deployment per UTC minute of the call's start). Each minute row is created
if missing, then locked (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite already holds its single
write lock) and incremented, so concurrent writers in several processes never lose an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modeldeck.metering.records import CallRecord
from modeldeck.store import Store
from modeldeck.store.models import UsageCallRow, UsageMinuteRow

CALLS: Table = UsageCallRow.__table__  # type: ignore[assignment]
MINUTES: Table = UsageMinuteRow.__table__  # type: ignore[assignment]
COUNTERS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "overflow_calls",
    "overflow_input_tokens",
    "overflow_output_tokens",
    "errors",
)


def minute_of(at: datetime) -> datetime:
    """The minute a call is counted in (its start, floored; aware, same zone as given)."""
    return at.replace(second=0, microsecond=0)


@dataclass
class MinuteDelta:
    """What a set of calls adds to one deployment's minute."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    overflow_calls: int = 0
    overflow_input_tokens: int = 0
    overflow_output_tokens: int = 0
    errors: int = 0
    overflow_cost: Decimal = field(default_factory=Decimal)

    def add(self, rec: CallRecord) -> None:
        self.calls += 1
        self.input_tokens += rec.input_tokens
        self.output_tokens += rec.output_tokens
        self.reasoning_tokens += rec.reasoning_tokens
        if rec.failed:
            self.errors += 1
        if rec.overflow and not rec.failed:
            self.overflow_calls += 1
            self.overflow_input_tokens += rec.input_tokens
            self.overflow_output_tokens += rec.output_tokens
            if rec.cost is not None:
                self.overflow_cost += rec.cost

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}


def aggregate(records: Iterable[CallRecord]) -> dict[tuple[str, datetime], MinuteDelta]:
    """Per (deployed model, UTC minute) totals of `records`."""
    out: dict[tuple[str, datetime], MinuteDelta] = {}
    for rec in records:
        key = (rec.deployed_model, minute_of(rec.at.astimezone(UTC)))
        delta = out.get(key)
        if delta is None:
            delta = out[key] = MinuteDelta()
        delta.add(rec)
    return out


def _insert_calls(session: Session, dialect: str, records: Sequence[CallRecord]) -> set[str]:
    """Insert calls not stored yet; returns the call ids actually inserted."""
    rows = [rec.row() for rec in records]
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = (
            insert(CALLS)
            .on_conflict_do_nothing(index_elements=["call_id"])
            .returning(CALLS.c.call_id)
        )
        inserted: set[str] = set()
        for chunk in _chunks(rows, 500):
            inserted.update(session.scalars(stmt, chunk).all())
        return inserted
    ids = [row["call_id"] for row in rows]
    existing: set[str] = set()
    for chunk_ids in _chunks(ids, 500):
        existing.update(
            session.scalars(select(CALLS.c.call_id).where(CALLS.c.call_id.in_(chunk_ids))).all()
        )
    fresh = [row for row in rows if row["call_id"] not in existing]
    if fresh:
        session.execute(CALLS.insert(), fresh)
    return {row["call_id"] for row in fresh}


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_minutes(
    session: Session, dialect: str, deltas: dict[tuple[str, datetime], MinuteDelta]
) -> None:
    """Add `deltas` to `usage_minutes`, creating rows as needed (keys in a fixed order)."""
    for (deployed_model, minute), delta in sorted(deltas.items()):
        where = (MINUTES.c.deployed_model == deployed_model) & (MINUTES.c.minute == minute)
        zero = {name: 0 for name in COUNTERS}
        fresh = {"deployed_model": deployed_model, "minute": minute, **zero, "overflow_cost": "0"}
        if dialect in ("sqlite", "postgresql"):
            insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
            session.execute(
                insert(MINUTES)
                .values(**fresh)
                .on_conflict_do_nothing(index_elements=["deployed_model", "minute"])
            )
        query = select(MINUTES.c.overflow_cost).where(where)
        if dialect == "postgresql":
            query = query.with_for_update()
        current = session.execute(query).scalar_one_or_none()
        if current is None:
            session.execute(MINUTES.insert().values(**fresh))
            current = Decimal(0)
        values: dict[str, Any] = {
            name: MINUTES.c[name] + amount for name, amount in delta.counters().items() if amount
        }
        values["overflow_cost"] = current + delta.overflow_cost
        session.execute(update(MINUTES).where(where).values(**values))


def write_batch(store: Store, records: Sequence[CallRecord]) -> list[CallRecord]:
    """Insert `records` and fold the new ones into the minute roll-ups, in one transaction.

    Returns the records that were not in the store before (replays skip the others).
    """
    records = list({rec.call_id: rec for rec in records}.values())
    if not records:
        return []
    dialect = store.dialect
    with store.session() as session:
        inserted = _insert_calls(session, dialect, records)
        new = [rec for rec in records if rec.call_id in inserted]
        if new:
            apply_minutes(session, dialect, aggregate(new))
    return new
