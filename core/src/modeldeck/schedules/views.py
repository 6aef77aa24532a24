"""What the surfaces show of a schedule: its state and its next change (typed, JSON-able)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["ScheduleView", "ScheduledChange"]


class ScheduledChange(BaseModel):
    """The next change a schedule will make: when, to what, and by which entry."""

    schedule_id: str
    deployment_id: str
    at: datetime
    level: str
    label: str


class ScheduleView(BaseModel):
    """One schedule as the surfaces show it."""

    id: str
    request_id: str
    deployment_id: str
    deployment: str
    kind: str
    state: str
    summary: str
    paused_reason: str | None = None
    last_set: dict[str, int] | None = None
    last_change_at: datetime | None = None
    activated_at: datetime
    next_change: ScheduledChange | None = None
