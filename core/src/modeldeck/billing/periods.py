"""Cost query periods on the Beijing calendar, for every period form the grammar accepts.

Words (today, yesterday, week, month, last-month, year, all), a month YYYY-MM, a day YYYY-MM-DD,
a duration (the rolling window that long, ending now: 7d, 24h, 1d2h) or <from>..<to> (dates or
ISO times; a `to` date includes that whole day). Naive times are Beijing time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from modeldeck.durations import parse_duration
from modeldeck.errors import GrammarError, ValidationFailed
from modeldeck.timeutil import BEIJING, ensure_aware, utcnow

ALLOWED = (
    "today, yesterday, week, month, last-month, year, all, YYYY-MM, YYYY-MM-DD, a duration "
    "such as 7d or 24h, or <from>..<to> (YYYY-MM-DD or ISO times)"
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=BEIJING)
MAX_DURATION_DAYS = 3660


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _bad(text: str) -> GrammarError:
    return GrammarError(f"period={text!r} is not a period.", hint=f"Use {ALLOWED}.")


def _month_start(year: int, month: int, text: str) -> datetime:
    if not 1 <= month <= 12:
        raise GrammarError(f"period={text!r}: {month:02d} is not a month (01-12).")
    return _midnight(date(year, month, 1))


def _next_month(start: datetime) -> datetime:
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return _midnight(date(year, month, 1))


def _bound(text: str, whole: str, *, end: bool) -> datetime:
    """A from/to bound: a date (a `to` date includes that whole day) or an ISO time."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return _midnight(day + timedelta(days=1)) if end else _midnight(day)
        return ensure_aware(datetime.fromisoformat(text)).astimezone(BEIJING)
    except ValueError:
        raise GrammarError(
            f"period={whole!r}: {text!r} is not a date or time.",
            hint="Write dates as YYYY-MM-DD (a 'to' date includes that whole day) or ISO times "
            "such as 2026-03-01T10:00+08:00.",
        ) from None


def parse_period(text: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The half-open interval [start, end) a period names, aware, in Beijing time.

    Periods ending in the future end at `now`. No period (None or empty) means `month`; none
    starts before 1970-01-01 Beijing time (the calendar modeldeck bills on), so nothing a user
    types reaches a date overflow.
    """
    try:
        start, end = _parse_period(text, now)
    except OverflowError:
        raise _out_of_calendar(text) from None
    if start < _EPOCH:
        raise _out_of_calendar(text)
    return start, end


def _out_of_calendar(text: str | None) -> ValidationFailed:
    return ValidationFailed(
        f"period={text!r} is outside the billing calendar: periods run from "
        f"{_EPOCH:%Y-%m-%d} (Beijing time) up to now.",
        hint="Give a later date, or period=all for everything.",
    )


def _parse_period(text: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    current = ensure_aware(now).astimezone(BEIJING) if now else utcnow().astimezone(BEIJING)
    raw = (text or "month").strip()
    body = raw.lower()
    today = _midnight(current.date())
    if body == "today":
        return today, current
    if body == "yesterday":
        return today - timedelta(days=1), today
    if body == "week":  # the calendar week, from Monday 00:00
        return today - timedelta(days=current.weekday()), current
    if body == "month":
        return _midnight(current.date().replace(day=1)), current
    if body in ("last-month", "last_month"):
        this_month = current.date().replace(day=1)
        previous = (this_month - timedelta(days=1)).replace(day=1)
        return _midnight(previous), _midnight(this_month)
    if body == "year":
        return _midnight(date(current.year, 1, 1)), current
    if body == "all":
        return _EPOCH, current
    if _DAY.match(body):
        try:
            day = date.fromisoformat(body)
        except ValueError:
            raise GrammarError(f"period={raw!r} is not a real date.") from None
        start = _midnight(day)
        if start > current:
            raise ValidationFailed(f"period={raw!r} is in the future.", hint="Give a past day.")
        return start, min(start + timedelta(days=1), current)
    match = _MONTH.match(body)
    if match:
        start = _month_start(int(match.group(1)), int(match.group(2)), raw)
        if start > current:
            raise ValidationFailed(
                f"period={raw!r} is in the future (now is {current:%Y-%m-%d %H:%M} Beijing time).",
                hint="Give a month up to the current one.",
            )
        return start, min(_next_month(start), current)
    if ".." in body:
        left, _, right = raw.partition("..")
        if not left.strip():
            raise GrammarError(
                f"period={raw!r} has no start.",
                hint="Write <from>..<to>, e.g. 2026-03-01..2026-03-07.",
            )
        start = _bound(left.strip(), raw, end=False)
        end = _bound(right.strip(), raw, end=True) if right.strip() else current
        if end <= start:
            raise ValidationFailed(
                f"period={raw!r} ends before it starts.", hint="Put the earlier date first."
            )
        if start > current:
            raise ValidationFailed(f"period={raw!r} starts in the future.")
        return start, min(end, current)
    if body[:1].isdigit():
        try:
            seconds = parse_duration(body)
        except GrammarError:
            raise _bad(raw) from None
        if not 0 < seconds <= MAX_DURATION_DAYS * 86_400:
            raise ValidationFailed(
                f"period={raw!r} is out of range.",
                hint=f"Give a duration from 1s to {MAX_DURATION_DAYS}d, or use period=all.",
            )
        return current - timedelta(seconds=seconds), current
    raise _bad(raw)
