"""Capacity schedules and the changes they ran: one row per schedule, one per (schedule, change).

The schedule row is guarded by `version` (every claim, outcome and pause bumps it; a pause is a
compare-and-set on the version read), and a change's run row is unique per (schedule, instant):
so several reconcilers on one database run each scheduled change once, and never pause a
schedule over a change another replica is carrying out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from modeldeck.store.models import Base
from modeldeck.store.repo import compare_and_set
from modeldeck.store.types import UTCDateTime

ACTIVE = "active"
PAUSED = "paused"
FINISHED = "finished"
CANCELLED = "cancelled"
STARTED = "started"
APPLIED = "applied"
FAILED = "failed"


class ScheduleRow(Base):
    """A schedule an approved `schedule` (or `scale … from= until=`) request activated."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(40), unique=True)
    deployment_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    requester: Mapped[str] = mapped_column(String(120))
    # the capacity when it was activated, and the one it set last (what it expects to find)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_reason: Mapped[str | None] = mapped_column(Text)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScheduleRunRow(Base):
    """One scheduled change, claimed once: started → applied or failed."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "change_at", name="uq_schedule_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(String(40), index=True)
    change_at: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str] = mapped_column(String(64))
    level: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(40))
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


def insert_schedule_once(session: Session, row: ScheduleRow) -> bool:
    """Store a schedule unless its request already activated one (a recovered execution)."""
    if session.scalar(select(ScheduleRow.id).where(ScheduleRow.request_id == row.request_id)):
        return False
    session.add(row)
    session.flush()
    return True


def active_for(session: Session, deployment_id: str) -> ScheduleRow | None:
    """The deployment's active schedule, if any (there is at most one)."""
    return session.scalars(
        select(ScheduleRow).where(
            ScheduleRow.deployment_id == deployment_id, ScheduleRow.state == ACTIVE
        )
    ).first()


def list_schedules(session: Session, states: tuple[str, ...] | None = None) -> list[ScheduleRow]:
    """Schedules (of these states, or all), oldest first."""
    query = select(ScheduleRow).order_by(ScheduleRow.activated_at, ScheduleRow.id)
    if states is not None:
        query = query.where(ScheduleRow.state.in_(states))
    return list(session.scalars(query))


def get_schedule(session: Session, schedule_id: str) -> ScheduleRow | None:
    return session.get(ScheduleRow, schedule_id)


def runs_in_flight(session: Session, schedule_id: str) -> list[ScheduleRunRow]:
    """The schedule's changes claimed and not finished yet."""
    return list(
        session.scalars(
            select(ScheduleRunRow).where(
                ScheduleRunRow.schedule_id == schedule_id, ScheduleRunRow.state == STARTED
            )
        )
    )


def runs_of(session: Session, schedule_id: str) -> list[ScheduleRunRow]:
    """Every change the schedule ran, oldest first."""
    return list(
        session.scalars(
            select(ScheduleRunRow)
            .where(ScheduleRunRow.schedule_id == schedule_id)
            .order_by(ScheduleRunRow.change_at)
        )
    )


def claim_run(
    session: Session,
    schedule_id: str,
    version: int,
    *,
    change_at: datetime,
    label: str,
    level: dict[str, Any],
    state: str,
    request_id: str | None,
    worker: str,
    now: datetime,
) -> bool:
    """Claim one change of an active schedule read at `version`: its run row (unique per
    instant) and the schedule's version bump, or nothing (False: claimed elsewhere, changed)."""
    try:
        with session.begin_nested():
            session.add(
                ScheduleRunRow(
                    schedule_id=schedule_id,
                    change_at=change_at,
                    label=label,
                    level=dict(level),
                    state=state,
                    request_id=request_id,
                    claimed_by=worker,
                    claimed_at=now,
                    finished_at=now if state != STARTED else None,
                )
            )
            session.flush()
            if not compare_and_set(
                session,
                ScheduleRow,
                [
                    ScheduleRow.id == schedule_id,
                    ScheduleRow.version == version,
                    ScheduleRow.state == ACTIVE,
                ],
                {"version": version + 1, "last_change_at": change_at, "updated_at": now},
            ):
                raise _Lost
    except (IntegrityError, _Lost):
        return False
    return True


class _Lost(Exception):
    """The schedule changed since it was read: undo the claim's savepoint."""


def finish_run(
    session: Session,
    run_id: int,
    state: str,
    now: datetime,
    *,
    error: str | None = None,
    last_set: dict[str, Any] | None = None,
    schedule_state: str | None = None,
) -> bool:
    """Move a started run to applied/failed once; the schedule records what it set (applied)."""
    run = session.get(ScheduleRunRow, run_id)
    if run is None or not compare_and_set(
        session,
        ScheduleRunRow,
        [ScheduleRunRow.id == run_id, ScheduleRunRow.state == STARTED],
        {"state": state, "finished_at": now, "error": error},
    ):
        return False
    bump_schedule(session, run.schedule_id, now, last_set=last_set, state=schedule_state)
    return True


def bump_schedule(
    session: Session,
    schedule_id: str,
    now: datetime,
    *,
    last_set: dict[str, Any] | None = None,
    state: str | None = None,
) -> None:
    """Record an outcome on the schedule (what it set, a final state) and bump its version."""
    values: dict[str, Any] = {"version": ScheduleRow.version + 1, "updated_at": now}
    if last_set is not None:
        values["last_set"] = dict(last_set)
    compare_and_set(session, ScheduleRow, [ScheduleRow.id == schedule_id], values)
    if state is not None:  # a final state only for a schedule still active (not paused/cancelled)
        compare_and_set(
            session,
            ScheduleRow,
            [ScheduleRow.id == schedule_id, ScheduleRow.state == ACTIVE],
            {"state": state},
        )


def pause_if_unchanged(
    session: Session, schedule_id: str, version: int, reason: str, now: datetime
) -> bool:
    """Pause an active schedule still at `version` (compare-and-set); True for the one pauser."""
    return compare_and_set(
        session,
        ScheduleRow,
        [
            ScheduleRow.id == schedule_id,
            ScheduleRow.version == version,
            ScheduleRow.state == ACTIVE,
        ],
        {"state": PAUSED, "paused_reason": reason, "version": version + 1, "updated_at": now},
    )


def cancel(session: Session, schedule_id: str, reason: str, now: datetime) -> str | None:
    """Cancel an active or paused schedule (compare-and-set); its state before, None if it was
    not active or paused (finished, cancelled, or cancelled by someone else first)."""
    row = session.get(ScheduleRow, schedule_id)
    if row is None or row.state not in (ACTIVE, PAUSED):
        return None
    before = row.state
    if not compare_and_set(
        session,
        ScheduleRow,
        [ScheduleRow.id == schedule_id, ScheduleRow.state == before],
        {
            "state": CANCELLED,
            "paused_reason": reason,
            "version": ScheduleRow.version + 1,
            "updated_at": now,
        },
    ):
        return None
    return before
