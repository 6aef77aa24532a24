"""The Beijing calendar of a schedule: reading `at="<days> <HH:MM>"` and listing its changes.

Weekdays and times are Beijing wall-clock time (Asia/Shanghai has no daylight saving, so every
listed time exists exactly once). A change is due at its instant; `changes_between(spec, lo, hi)`
lists the changes in (lo, hi], in order.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import NamedTuple

from modeldeck.errors import GrammarError
from modeldeck.schedules.spec import DAY_NAMES, ScheduleLevel, ScheduleSpec
from modeldeck.timeutil import BEIJING, ensure_aware

__all__ = ["Change", "changes_between", "next_change", "parse_at", "parse_days", "parse_time"]

_WORDS = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}
_ALIASES = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_DAYS_HELP = (
    "Write days as mon … sun, a range like mon-fri, a list like mon,wed,fri, or daily, "
    "weekdays, weekends."
)
_AT_EXAMPLE = 'at="mon-fri 09:00"'


class Change(NamedTuple):
    """One scheduled capacity change: when (UTC-aware), the level, and which entry it is."""

    at: datetime
    level: ScheduleLevel
    label: str


def _day(word: str, text: str) -> int:
    index = _ALIASES.get(word)
    if index is None:
        where = "" if word == text.strip().lower() else f" (in '{text.strip()}')"
        raise GrammarError(f"'{word}'{where} is not a day. {_DAYS_HELP}")
    return index


def parse_days(text: str) -> list[int]:
    """`mon-fri`, `sat,sun`, `mon-wed,fri`, `daily`… → sorted weekday numbers (0 = Monday)."""
    body = text.strip().lower()
    if not body:
        raise GrammarError(f"No days given. {_DAYS_HELP}")
    if body in _WORDS:
        return list(_WORDS[body])
    days: set[int] = set()
    for part in body.split(","):
        part = part.strip()
        if part in _WORDS:
            days.update(_WORDS[part])
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _day(first.strip(), text), _day(last.strip(), text)
            if b < a:
                raise GrammarError(
                    f"'{part}' runs backwards: write the week from Monday, e.g. "
                    f"{DAY_NAMES[a]}-sun,mon-{DAY_NAMES[b]} or list the days."
                )
            days.update(range(a, b + 1))
            continue
        days.add(_day(part, text))
    return sorted(days)


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_time(text: str) -> str:
    """`9:00`, `09:00`, `23:59` → `HH:MM` (24-hour Beijing time)."""
    match = _TIME.match(text.strip())
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise GrammarError(
            f"'{text.strip()}' is not a time: write HH:MM in 24-hour Beijing time, e.g. 09:00 "
            "or 19:30."
        )
    return f"{hour:02d}:{minute:02d}"


def parse_at(text: str) -> tuple[list[int], str]:
    """`at="<days> <HH:MM>"` → (weekdays, `HH:MM`); a clear GrammarError for anything else."""
    words = text.split()
    if len(words) != 2:
        raise GrammarError(
            f"at={text.strip()!r} needs days and a time: write e.g. {_AT_EXAMPLE} "
            "(Beijing time, in quotes because of the space)."
        )
    return parse_days(words[0]), parse_time(words[1])


def _weekly(spec: ScheduleSpec, lo: datetime, hi: datetime) -> list[Change]:
    out: list[Change] = []
    day = lo.astimezone(BEIJING).date() - timedelta(days=1)
    last = hi.astimezone(BEIJING).date()
    while day <= last:
        for entry in spec.entries:
            if day.weekday() not in entry.days:
                continue
            at = datetime.combine(day, time(entry.hour, entry.minute), tzinfo=BEIJING)
            if lo < at <= hi:
                out.append(Change(at, entry.level, f"{entry.days_text()} {entry.time}"))
        day += timedelta(days=1)
    return sorted(out, key=lambda c: c.at)


def changes_between(spec: ScheduleSpec, lo: datetime, hi: datetime) -> list[Change]:
    """The schedule's changes due in (lo, hi], oldest first."""
    lo, hi = ensure_aware(lo), ensure_aware(hi)
    if hi <= lo:
        return []
    if spec.kind == "window":
        points = [
            (spec.window_from, spec.level, "from"),
            (spec.window_until, spec.restore, "until"),
        ]
        return [
            Change(ensure_aware(at), level, label)
            for at, level, label in points
            if at is not None and level is not None and lo < ensure_aware(at) <= hi
        ]
    return _weekly(spec, lo, hi)


def next_change(spec: ScheduleSpec, after: datetime) -> Change | None:
    """The first change strictly after `after` (a weekly schedule has one within 8 days)."""
    found = changes_between(spec, after, ensure_aware(after) + timedelta(days=8))
    if spec.kind == "window":
        found = changes_between(spec, after, datetime.max.replace(tzinfo=BEIJING))
    return found[0] if found else None
