"""Store writes of the metering writer: insert a batch of calls, fold it into minute roll-ups.

One transaction per batch. Calls are inserted with ON CONFLICT (call_id) DO NOTHING ... RETURNING,
so replaying a journal is idempotent and only the calls actually inserted are added to
`usage_minutes` (per deployment per UTC minute of the call's start). The minute rows are
upserted with their integer counters added in SQL (ON CONFLICT DO UPDATE), which also locks them
until commit; an overflow cost is then added exactly in Decimal (read, add, write), so concurrent
writers in several processes never lose an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

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


def _insert_calls(session: Connection, dialect: str, records: Sequence[CallRecord]) -> set[str]:
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


@cache
def _minute_statements(dialect: str) -> tuple[Executable, Executable, Executable]:
    """Built once per dialect (building SQLAlchemy statements per batch costs milliseconds).

    An upsert adding the integer counters (executed for many keys at once), and a locked read
    plus a write of `overflow_cost`, whose exact decimal sum is done here, not in SQL.
    """
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    stmt = insert(MINUTES)
    upsert = stmt.on_conflict_do_update(
        index_elements=["deployed_model", "minute"],
        set_={name: MINUTES.c[name] + stmt.excluded[name] for name in COUNTERS},
    )
    where = (MINUTES.c.deployed_model == bindparam("key_model")) & (
        MINUTES.c.minute == bindparam("key_minute")
    )
    read = select(MINUTES.c.overflow_cost).where(where)
    if dialect == "postgresql":
        read = read.with_for_update()
    write = update(MINUTES).where(where).values(overflow_cost=bindparam("new_cost"))
    return upsert, read, write


def apply_minutes(
    conn: Connection, dialect: str, deltas: dict[tuple[str, datetime], MinuteDelta]
) -> None:
    """Add `deltas` to `usage_minutes`, creating rows as needed (keys in a fixed order).

    The upsert locks each row it touches until the transaction ends (PostgreSQL row locks,
    SQLite's single write lock), so the read-add-write of the cost that follows is safe.
    """
    if not deltas:
        return
    keys = sorted(deltas)
    if dialect not in ("sqlite", "postgresql"):
        _apply_minutes_generic(conn, keys, deltas)
        return
    upsert, read, write = _minute_statements(dialect)
    conn.execute(
        upsert,
        [
            {
                "deployed_model": model,
                "minute": minute,
                **deltas[(model, minute)].counters(),
                "overflow_cost": Decimal(0),
            }
            for model, minute in keys
        ],
    )
    for model, minute in keys:
        amount = deltas[(model, minute)].overflow_cost
        if amount:
            key = {"key_model": model, "key_minute": minute}
            current = conn.execute(read, key).scalar_one()
            conn.execute(write, {**key, "new_cost": current + amount})


def _apply_minutes_generic(
    conn: Connection, keys: list[tuple[str, datetime]], deltas: dict[tuple[str, datetime], Any]
) -> None:
    """Other dialects: read, then insert or update each row (no concurrent writers assumed)."""
    for model, minute in keys:
        delta: MinuteDelta = deltas[(model, minute)]
        where = (MINUTES.c.deployed_model == model) & (MINUTES.c.minute == minute)
        current = conn.execute(select(MINUTES.c.overflow_cost).where(where)).scalar_one_or_none()
        if current is None:
            conn.execute(
                MINUTES.insert().values(
                    deployed_model=model,
                    minute=minute,
                    **delta.counters(),
                    overflow_cost=delta.overflow_cost,
                )
            )
            continue
        values: dict[str, Any] = {
            name: MINUTES.c[name] + amount for name, amount in delta.counters().items() if amount
        }
        values["overflow_cost"] = current + delta.overflow_cost
        conn.execute(update(MINUTES).where(where).values(**values))


def write_batch(
    store: Store, records: Sequence[CallRecord], *, fresh: bool = False
) -> list[CallRecord]:
    """Insert `records` and fold the new ones into the minute roll-ups, in one transaction.

    Returns the records that were not in the store before (replays skip the others).
    `fresh=True` says the call ids were never stored (records made by this process): a plain
    multi-row insert, several times cheaper; a conflict all the same falls back to the
    idempotent path.
    """
    records = list({rec.call_id: rec for rec in records}.values())
    if not records:
        return []
    dialect = store.dialect
    if fresh:
        try:
            with store.engine.begin() as conn:
                conn.execute(CALLS.insert(), [rec.row() for rec in records])
                apply_minutes(conn, dialect, aggregate(records))
            return records
        except IntegrityError:
            pass  # some of them are stored already: insert the others only
    with store.engine.begin() as conn:
        inserted = _insert_calls(conn, dialect, records)
        new = [rec for rec in records if rec.call_id in inserted]
        if new:
            apply_minutes(conn, dialect, aggregate(new))
    return new
