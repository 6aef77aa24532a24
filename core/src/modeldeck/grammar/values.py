"""Reading one option value: numbers (20k, 20,000), decimals, durations, times, periods, choices.

Each reader takes the text and the key it was written for, and raises `GrammarError` naming both
and what is allowed. `VALUE_PARSERS` says which reader each key uses; surfaces with their own
input fields (the notebook) call these same readers so they accept and refuse the same values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from modeldeck.durations import format_duration, parse_duration
from modeldeck.errors import GrammarError
from modeldeck.grammar.messages import did_you_mean, shown
from modeldeck.grammar.plan_values import parse_coverage, parse_option, parse_options
from modeldeck.timeutil import ensure_aware

__all__ = [
    "VALUE_PARSERS",
    "parse_duration",
    "parse_hours",
    "parse_hours_per_day",
    "parse_number",
    "parse_tags",
    "parse_value",
]

MAX_HOURS_PER_DAY = Decimal(24)
_PERIOD_WORDS: dict[str, str] = {
    "today": "today", "day": "today", "yesterday": "yesterday", "week": "week",
    "month": "month", "this-month": "month", "last-month": "last-month", "year": "year",
    "all": "all",
}  # fmt: skip

_NUMBER = re.compile(r"([0-9][0-9,_]*)(\.[0-9]+)?([kK]?)")
_COMMAS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
_UNDERSCORES = re.compile(r"[0-9]+(_[0-9]+)*")
_NUMBER_STYLES = "numbers look like 20000, 20,000, 20_000 or 20k"
_MAX_DIGITS = 15


def _plain_digits(whole: str, key: str, text: str) -> str:
    """The digits of a whole part written 20000, 20,000 or 20_000; GrammarError otherwise."""
    if "," in whole and "_" in whole:
        raise GrammarError(f"{key}={shown(text)} mixes ',' and '_': {_NUMBER_STYLES}.")
    if "," in whole and not _COMMAS.fullmatch(whole):
        raise GrammarError(
            f"{key}={shown(text)} has misplaced commas: group digits by three, e.g. 20,000."
        )
    if "_" in whole and not _UNDERSCORES.fullmatch(whole):
        raise GrammarError(f"{key}={shown(text)} has misplaced underscores: write e.g. 20_000.")
    digits = whole.replace(",", "").replace("_", "")
    if len(digits) > _MAX_DIGITS:
        raise GrammarError(
            f"{key}={shown(text)} is too large: at most {_MAX_DIGITS} digits are read, and "
            f"{key}'s own limit is lower (a smaller number that is still too large names it)."
        )
    return digits


def parse_number(text: str, key: str = "value", minimum: int = 0) -> int:
    """A whole number written 20000, 20,000, 20_000 or 20k (1.5k too); GrammarError otherwise."""
    body = text.strip()
    match = _NUMBER.fullmatch(body)
    if match is None:
        if body.startswith("-"):
            raise GrammarError(
                f"{key}={shown(text)} is negative: {key} must be at least {minimum}."
            )
        raise GrammarError(f"{key}={shown(text)} is not a whole number: {_NUMBER_STYLES}.")
    whole, frac, suffix = match.groups()
    value = Decimal(_plain_digits(whole, key, text) + (frac or ""))
    if suffix:
        value *= 1000
    if value != value.to_integral_value():
        raise GrammarError(f"{key}={shown(text)} is not a whole number: {_NUMBER_STYLES}.")
    number = int(value)
    if number < minimum:
        raise GrammarError(f"{key}={shown(text)} is too small: {key} must be at least {minimum}.")
    return number


def _decimal(text: str, key: str, maximum: Decimal | None = None) -> Decimal:
    """A positive decimal such as 10, 1.5 or 1,000.25; GrammarError otherwise."""
    body = text.strip()
    match = _NUMBER.fullmatch(body)
    if match is None or match.group(3):
        raise GrammarError(
            f"{key}={shown(text)} is not a number: write e.g. {key}=10 or {key}=1.5."
        )
    whole, frac, _ = match.groups()
    try:
        value = Decimal(_plain_digits(whole, key, text) + (frac or ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only plain numbers
        raise GrammarError(f"{key}={shown(text)} is not a number.") from exc
    if value <= 0:
        raise GrammarError(f"{key}={shown(text)} must be more than zero.")
    if maximum is not None and value > maximum:
        raise GrammarError(f"{key}={shown(text)} is too large: at most {maximum}.")
    return value


def _positive_duration(text: str, key: str) -> int:
    seconds = parse_duration(text)
    if seconds <= 0:
        raise GrammarError(f"{key}={shown(text)} must be longer than zero: e.g. {key}=1h30m.")
    return seconds


def _choice(text: str, key: str, allowed: Sequence[str], context: str = "") -> str:
    value = text.strip().lower()
    if value in allowed:
        return value
    where = f" for {context}" if context else ""
    raise GrammarError(
        f"{key}={shown(text)} is not allowed{where}: use {' or '.join(allowed)}."
        + did_you_mean(value, allowed)
    )


_YES = ("yes", "y", "true", "on", "1")
_NO = ("no", "n", "false", "off", "0")


def _yes_no(text: str, key: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise GrammarError(f"{key}={shown(text)} is not yes or no: write {key}=yes or {key}=no.")


def _start(text: str, key: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time, with one it is kept."""
    body = text.strip()
    try:
        value = datetime.fromisoformat(body[:-1] + "+00:00" if body.endswith(("Z", "z")) else body)
    except (ValueError, OverflowError) as exc:
        raise GrammarError(
            f"{key}={shown(text)} is not an ISO time: write e.g. {key}=2026-03-01T10:00 "
            f"(Beijing time) or {key}=2026-03-01T02:00Z."
        ) from exc
    return ensure_aware(value)


def _text(text: str, key: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise GrammarError(f'{key}= is empty: write e.g. {key}="…" or leave it out.')
    return value


_SUFFIX = re.compile(r"[A-Za-z0-9-]{1,8}")


def _suffix(text: str, key: str) -> str:
    value = text.strip()
    if not _SUFFIX.fullmatch(value):
        raise GrammarError(
            f"{key}={shown(text)} is not a valid suffix: use 1 to 8 letters, digits or '-'."
        )
    return value


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def _period_range(text: str, key: str) -> str:
    """`<from>..<to>`: two dates (YYYY-MM-DD) or ISO times, the start before the end."""
    start, _, end = text.strip().partition("..")
    parsed = []
    for side in (start, end):
        try:
            parsed.append(datetime.fromisoformat(side.strip().upper()))
        except ValueError:
            raise GrammarError(
                f"{key}={shown(text)} is not a period range: write <from>..<to> with dates "
                "(2026-03-01..2026-03-08) or ISO times (2026-03-01T10:00..2026-03-01T18:00)."
            ) from None
    if (parsed[0].tzinfo is None) != (parsed[1].tzinfo is None):
        raise GrammarError(f"{key}={shown(text)}: give both ends with an offset, or neither.")
    if parsed[0] >= parsed[1]:
        raise GrammarError(f"{key}={shown(text)}: the start must be before the end.")
    return f"{start.strip().upper()}..{end.strip().upper()}"


def _period(text: str, key: str) -> str:
    """Normalise a cost period: a word, a month `YYYY-MM`, a day `YYYY-MM-DD` or a duration."""
    if ".." in text:
        return _period_range(text, key)
    value = text.strip().lower().replace("_", "-")
    if value in _PERIOD_WORDS:
        return _PERIOD_WORDS[value]
    if _MONTH.fullmatch(value):
        return value
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError as exc:
            raise GrammarError(f"{key}={shown(text)} is not a real date.") from exc
        return value
    try:
        seconds = parse_duration(value)
    except GrammarError:
        seconds = 0
    if seconds > 0:
        return format_duration(seconds)
    allowed = (
        "today, yesterday, week, month, last-month, year, all, YYYY-MM, YYYY-MM-DD, <from>..<to>"
    )
    raise GrammarError(
        f"{key}={shown(text)} is not a period: use {allowed} or a duration such as 7d or 24h."
        + did_you_mean(value, list(_PERIOD_WORDS))
    )


_TAG_KEY = re.compile(r"[A-Za-z0-9_.\-/]{1,40}")
MAX_TAGS = 20


def parse_tags(text: str, key: str = "tags") -> dict[str, str]:
    """`team=search,cc=42`: labels a budget's `tag:<key>=<value>` scope matches (case kept)."""
    tags: dict[str, str] = {}
    example = f"{key}=team=search,cc=42"
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise GrammarError(
                f"{key}={shown(text)}: each tag is <key>=<value>, separated by commas, "
                f"e.g. {example}."
            )
        if not _TAG_KEY.fullmatch(name):
            raise GrammarError(
                f"{key}={shown(text)}: the tag key {shown(name)!r} may use only letters, digits "
                "and _ . - / (at most 40)."
            )
        if len(value) > 100:
            raise GrammarError(f"{key}={shown(text)}: a tag value is at most 100 characters.")
        if name in tags:
            raise GrammarError(f"{key}={shown(text)}: the tag {name!r} is given twice.")
        tags[name] = value
    if len(tags) > MAX_TAGS:
        raise GrammarError(f"{key}={shown(text)}: at most {MAX_TAGS} tags.")
    return tags


def _scope(text: str, key: str) -> str:
    """A budget scope, checked here so a typo is a grammar error with what is allowed."""
    from modeldeck.budgets.models import parse_scope

    try:
        return str(parse_scope(text))
    except ValueError as exc:
        raise GrammarError(f"{key}={shown(text)}: {exc}.") from None


def _thresholds(text: str, key: str) -> list[int]:
    """Percentages such as 50,80,100 (1 to 1000)."""
    values = [parse_number(part, key, 1) for part in text.split(",") if part.strip()]
    if not values or any(v > 1000 for v in values):
        raise GrammarError(
            f"{key}={shown(text)}: give percentages from 1 to 1000, e.g. {key}=50,80,100."
        )
    return sorted(set(values))


_Parser = Callable[[str, str], Any]


def _count(minimum: int) -> _Parser:
    return lambda text, key: parse_number(text, key, minimum)


VALUE_PARSERS: dict[str, _Parser] = {
    "in": _count(0),
    "out": _count(0),
    "thinking_out": _count(0),
    "units": _count(1),
    "rpm_limit": _count(1),
    "tpm_limit": _count(1),
    "rpm": _count(1),
    "tpm": _count(1),
    "days": _count(1),
    "months": _count(1),
    "context": _count(1),
    "max_input": _count(1),
    "hours": lambda text, key: _decimal(text, key),
    "hours_per_day": lambda text, key: _decimal(text, key, MAX_HOURS_PER_DAY),
    "duration": _positive_duration,
    "cancel_after": _positive_duration,
    "start": _start,
    "from": _start,
    "until": _start,
    "at": _text,  # read with its capacity by the schedule parser (schedule_parser)
    "auto_renew": _yes_no,
    "mode": lambda text, key: _choice(text, key, ("instruct", "thinking")),
    "billing": lambda text, key: text.strip().lower(),  # checked against the plan later
    "suffix": _suffix,
    "name": _text,
    "reason": _text,
    "period": _period,
    "coverage": parse_coverage,
    "options": parse_options,
    "option": parse_option,
    "tags": parse_tags,
    "amount": lambda text, key: _decimal(text, key),
    "scope": _scope,
    "hard": _yes_no,
    "thresholds": _thresholds,
}


def parse_value(key: str, text: str) -> Any:
    """`text` read as the value of `key` (a canonical key of `KEYS`), as the grammar reads it."""
    return VALUE_PARSERS[key](text, key)


def parse_hours(text: str, key: str = "hours") -> Decimal:
    """Hours as an exact positive Decimal (10, 1.5, 1,000): the grammar's `hours=`."""
    return _decimal(text, key)


def parse_hours_per_day(text: str, key: str = "hours_per_day") -> Decimal:
    """Hours a day in (0, 24]: the grammar's `hours_per_day=`."""
    return _decimal(text, key, MAX_HOURS_PER_DAY)
