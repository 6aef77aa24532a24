"""The core's text for schedules: the `schedules` listing and the "next change" lines of
`list` and `status` (Beijing time, as the schedules are written)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from modeldeck.schedules.views import ScheduledChange, ScheduleView
from modeldeck.timeutil import iso, to_beijing

__all__ = ["next_change_text", "next_changes_text", "schedule_status_text", "schedules_text"]


def next_change_text(change: ScheduledChange) -> str:
    """`2026-12-07T09:00:00+08:00 → 40,000 in / 4,000 out TPM (mon-fri 09:00, sch_…)`."""
    when = iso(to_beijing(change.at))
    return f"{when} → {change.level} ({change.label}, {change.schedule_id})"


def next_changes_text(changes: Mapping[str, ScheduledChange], names: Mapping[str, str]) -> str:
    """The `list` footer: each deployment's next scheduled change ("" when none)."""
    if not changes:
        return ""
    lines = ["Scheduled next:"]
    for dep_id, change in sorted(changes.items(), key=lambda item: item[1].at):
        lines.append(f"  {names.get(dep_id, dep_id)}: {next_change_text(change)}")
    return "\n".join(lines)


def schedule_status_text(view: ScheduleView) -> str:
    """The `status` lines of a deployment's schedule."""
    line = f"  schedule: {view.id} ({view.state}): {view.summary}"
    lines = [line]
    if view.next_change is not None:
        lines.append(f"  next scheduled change: {next_change_text(view.next_change)}")
    if view.paused_reason:
        lines.append(f"  PAUSED: {view.paused_reason}")
    return "\n".join(lines)


def schedules_text(views: Sequence[ScheduleView]) -> str:
    """The `schedules` listing."""
    if not views:
        return (
            'No schedules. Ask for one: schedule <deployment> <capacity> at="mon-fri 09:00" …, '
            "or a window: scale <deployment> <capacity> from=… until=…"
        )
    blocks = []
    for v in views:
        lines = [f"{v.id}  {v.deployment}  {v.kind}  {v.state}", f"  {v.summary}"]
        if v.next_change is not None:
            lines.append(f"  next: {next_change_text(v.next_change)}")
        if v.last_change_at is not None:
            lines.append(f"  last change: {iso(to_beijing(v.last_change_at))}")
        if v.paused_reason:
            lines.append(f"  PAUSED: {v.paused_reason}")
        lines.append(f"  approved as {v.request_id}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
