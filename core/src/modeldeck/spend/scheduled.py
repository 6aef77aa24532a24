"""The capacity changes active schedules will make, as capacity events (for the forecasts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modeldeck.billing.accrual import CapacityEvent
from modeldeck.schedules.calendar import changes_between
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.store import schedules as schedule_rows
from modeldeck.timeutil import ensure_aware

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def planned_changes(
    session: Session, now: datetime, until: datetime
) -> dict[str, list[CapacityEvent]]:
    """Every active schedule's changes in (now, until] as `scaled` events, by deployment id.

    A change already claimed (due at or before now) is in the deployment's history once it
    ran; only changes after both now and the schedule's last claimed one are planned here.
    """
    out: dict[str, list[CapacityEvent]] = {}
    for row in schedule_rows.list_schedules(session, (schedule_rows.ACTIVE,)):
        last = row.last_change_at
        after = max(
            ensure_aware(now), ensure_aware(last) if last else datetime.min.replace(tzinfo=UTC)
        )
        for change in changes_between(ScheduleSpec.model_validate(row.spec), after, until):
            out.setdefault(row.deployment_id, []).append(
                CapacityEvent(at=change.at, kind="scaled", **change.level.model_dump())
            )
    return out
