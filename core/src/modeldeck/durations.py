"""Human durations (`90m30s`, `1h30m`, `7d`, `1d2h`) to whole seconds and back, for all surfaces."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from modeldeck.errors import GrammarError

__all__ = ["UNIT_SECONDS", "format_duration", "parse_duration"]

# Canonical unit letter -> seconds. Months are calendar months, so they are not a duration unit.
UNIT_SECONDS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

_UNIT_WORDS: dict[str, str] = {
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "d": "d", "day": "d", "days": "d",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
}  # fmt: skip

_PART = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*([a-z]+)")
_BARE_NUMBER = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?")
_EXAMPLES = "use e.g. 90m30s, 1h30m, 7d, 2h, 45s or 1d2h"
_MAX_SHOWN = 40


def _shown(text: str) -> str:
    """The offending text, shortened so an error stays one readable paragraph."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_SHOWN else flat[: _MAX_SHOWN - 1] + "…"


def parse_duration(text: str) -> int:
    """Whole seconds in `text` such as `90m30s`, `1h30m`, `7d`, `1.5h`; GrammarError otherwise.

    Units are w, d, h, m, s (also words like `min`, `hours`), each at most once, in any order,
    optionally separated by spaces; a decimal part is allowed when the total is whole seconds.
    """
    body = text.strip().lower()
    bad = GrammarError(f"'{_shown(text)}' is not a valid duration: {_EXAMPLES}.")
    if not body:
        raise GrammarError(f"The duration is empty: {_EXAMPLES}.")
    if _BARE_NUMBER.fullmatch(body):
        raise GrammarError(
            f"'{_shown(text)}' has no unit: say which, e.g. {body}m or {body}h ({_EXAMPLES})."
        )
    pos = 0
    seen: set[str] = set()
    total = Decimal(0)
    while pos < len(body):
        if body[pos].isspace():
            pos += 1
            continue
        match = _PART.match(body, pos)
        if match is None:
            raise bad
        number, word = match.groups()
        unit = _UNIT_WORDS.get(word)
        if unit is None:
            raise GrammarError(
                f"'{word}' in '{_shown(text)}' is not a duration unit: use w, d, h, m or s "
                f"({_EXAMPLES})."
            )
        if unit in seen:
            raise GrammarError(
                f"'{_shown(text)}' gives the unit '{unit}' twice: give each unit once, {_EXAMPLES}."
            )
        seen.add(unit)
        try:
            total += Decimal(number) * UNIT_SECONDS[unit]
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only plain numbers
            raise bad from exc
        pos = match.end()
    if total != total.to_integral_value():
        raise GrammarError(f"'{_shown(text)}' is not a whole number of seconds: {_EXAMPLES}.")
    return int(total)


def format_duration(seconds: int) -> str:
    """The compact form `parse_duration` reads back: 5430 -> `1h30m30s`, 0 -> `0s`."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m", "s"):
        size = UNIT_SECONDS[unit]
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
