"""Cost query periods on the Beijing calendar: today, yesterday, Nd, month, YYYY-MM, from..to."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from modeldeck.errors import GrammarError, ValidationFailed
from modeldeck.timeutil import BEIJING, ensure_aware, utcnow

ALLOWED = (
    "today, yesterday, 7d (any 1d-366d), month, YYYY-MM, or <from>..<to> (YYYY-MM-DD or ISO time)"
)
_DAYS = re.compile(r"^(\d{1,3})d$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


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

    Periods ending in the future end at `now`. No period (None or empty) means `month`.
    """
    current = ensure_aware(now).astimezone(BEIJING) if now else utcnow().astimezone(BEIJING)
    raw = (text or "month").strip()
    body = raw.lower()
    today = _midnight(current.date())
    if body == "today":
        return today, current
    if body == "yesterday":
        return today - timedelta(days=1), today
    if body == "month":
        return _midnight(current.date().replace(day=1)), current
    match = _DAYS.match(body)
    if match:
        days = int(match.group(1))
        if not 1 <= days <= 366:
            raise ValidationFailed(f"period={raw!r}: give from 1d to 366d.")
        return today - timedelta(days=days - 1), current
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
    raise _bad(raw)
