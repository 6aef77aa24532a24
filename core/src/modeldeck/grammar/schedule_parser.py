"""Parsing `schedule <deployment> <capacity> at="<days> <HH:MM>" [<capacity> at=…]… [reason=…]`,
and the window of `scale <deployment> <capacity> from=<ISO> until=<ISO>`.

Options are read in order: each `at=` closes one entry, and the capacity keys written since the
previous `at=` are the level it sets (so the same key may appear once per entry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modeldeck.errors import GrammarError
from modeldeck.grammar.commands import ScheduleCommand
from modeldeck.grammar.keys import canonical_key
from modeldeck.grammar.messages import did_you_mean, shown
from modeldeck.grammar.values import VALUE_PARSERS
from modeldeck.schedules.calendar import parse_at
from modeldeck.schedules.spec import DAY_NAMES, ScheduleEntry, ScheduleLevel, ScheduleSpec

__all__ = ["check_window", "parse_schedule"]

_CAPACITY = {
    "units": "units",
    "in": "input_tpm",
    "out": "output_tpm",
    "thinking_out": "thinking_output_tpm",
}
_EXAMPLE = (
    'schedule search in=40000 out=4000 at="mon-fri 09:00" in=10000 out=1000 at="mon-fri 19:00"'
)


def _level(values: dict[str, int], usage: str) -> ScheduleLevel:
    if "units" in values and len(values) > 1:
        raise GrammarError("A level is units= (mu) or in=/out= (ptu), not both.", hint=f"{usage}.")
    return ScheduleLevel(**{_CAPACITY[k]: v for k, v in values.items()})


def parse_schedule(
    raw: str, deployment: str, options: list[tuple[str, str]], usage: str
) -> ScheduleCommand:
    """The `ScheduleCommand` of a schedule's options, read in order."""
    allowed = ScheduleCommand.keys
    entries: list[ScheduleEntry] = []
    pending: dict[str, int] = {}
    reason: str | None = None
    seen: set[tuple[int, str]] = set()
    for raw_key, raw_value in options:
        key = canonical_key(raw_key, allowed)
        if key is None:
            written = raw_key.lower().replace("-", "_")
            tip = (
                " A one-off window is `scale <deployment> … from=… until=…`."
                if written in ("from", "until")
                else ""
            )
            raise GrammarError(
                f"Unknown key '{shown(raw_key)}' for 'schedule'.{tip}",
                hint=f"Allowed: {', '.join(allowed)}." + did_you_mean(written, allowed),
            )
        if not raw_value.strip():
            raise GrammarError(f"{raw_key}= has no value. Example: {_EXAMPLE}")
        if key == "reason":
            if reason is not None:
                raise GrammarError("Key 'reason' is given twice: give it once.")
            reason = VALUE_PARSERS["reason"](raw_value, key)
            continue
        if key != "at":
            if key in pending:
                raise GrammarError(
                    f"{key}= is given twice before one at=: each at= follows the capacity it "
                    f"sets. Example: {_EXAMPLE}"
                )
            pending[key] = VALUE_PARSERS[key](raw_value, key)
            continue
        if not pending:
            raise GrammarError(
                f"at={shown(raw_value)} has no capacity before it: write the level first, then "
                f"when it starts. Example: {_EXAMPLE}"
            )
        days, time = parse_at(raw_value)
        for day in days:
            if (day, time) in seen:
                raise GrammarError(
                    f"Two levels start at {DAY_NAMES[day]} {time}: give each time one level."
                )
            seen.add((day, time))
        entries.append(ScheduleEntry(days=days, time=time, level=_level(pending, usage)))
        pending = {}
    if pending:
        given = " ".join(f"{k}=" for k in pending)
        raise GrammarError(
            f"{given} has no at= after it: say when that capacity starts, e.g. "
            f'at="mon-fri 09:00" (Beijing time).',
            hint=f"Example: {_EXAMPLE}",
        )
    if not entries:
        raise GrammarError(
            'A schedule needs at least one capacity and at="<days> <HH:MM>".',
            hint=f"Example: {_EXAMPLE}",
        )
    spec = ScheduleSpec(deployment=deployment, kind="recurring", entries=entries)
    return ScheduleCommand(raw=raw, spec=spec, reason=reason)


def check_window(values: dict[str, Any]) -> tuple[datetime, datetime]:
    """`scale … from=… until=…`: both given, and until after from (the past is checked when it
    is requested, against the clock then)."""
    start: datetime | None = values.get("from")
    end: datetime | None = values.get("until")
    if start is None or end is None:
        missing = "until=" if start is not None else "from="
        raise GrammarError(
            f"A capacity window needs both from= and until=: {missing} is missing.",
            hint="Example: scale my-deployment units=8 from=2026-12-11T00:00 "
            "until=2026-12-12T00:00 (Beijing time).",
        )
    if end <= start:
        raise GrammarError(
            f"until= must be after from= (got from={start.isoformat()} until={end.isoformat()}).",
            hint="Times without an offset are Beijing time.",
        )
    return start, end
