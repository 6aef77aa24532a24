"""Traces from a CSV file: `minute,input_tokens,output_tokens[,thinking_output_tokens]`.

`minute` is ISO 8601 with an offset (e.g. 2026-03-01T10:00+08:00), on a whole minute. Optional
extra columns, named in a header: `model` (one model for the whole file) and
`request_input_tokens` (the minute's requests by input tokens, separated by `;`). Every problem
is reported with its line number; gaps are refused unless `gaps="zero"` (docs/planner.md).
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from modeldeck.planner.trace import MINUTE, Trace, TraceError

REQUIRED = ("minute", "input_tokens", "output_tokens")
OPTIONAL = ("thinking_output_tokens", "model", "request_input_tokens")
FORMAT_HINT = (
    "Write one row per minute: minute,input_tokens,output_tokens[,thinking_output_tokens], "
    "minute as ISO 8601 with its offset on a whole minute (2026-03-01T10:00+08:00), counts as "
    "whole non-negative numbers, every minute from the first to the last (or pass gaps=zero to "
    "read missing minutes as no traffic). Optional header columns: model, request_input_tokens "
    "(e.g. 1200;30000)."
)
Gaps = Literal["error", "zero"]


def _count(text: str, column: str, line: int, problems: list[str]) -> int | None:
    raw = text.strip()
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"line {line}: {column} {raw!r} is not a whole number of tokens")
        return None
    if value < 0:
        problems.append(f"line {line}: {column} is {value}; token counts cannot be negative")
        return None
    return value


def _minute(text: str, line: int, problems: list[str]) -> datetime | None:
    raw = text.strip()
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"line {line}: minute {raw!r} is not an ISO 8601 time")
        return None
    if at.tzinfo is None:
        problems.append(
            f"line {line}: minute {raw!r} has no offset; write it with one, e.g. {raw}+08:00"
        )
        return None
    if at.second or at.microsecond:
        problems.append(f"line {line}: minute {raw!r} is not on a whole minute")
        return None
    return at.astimezone(UTC)


def read_csv_trace(path: str | Path, *, gaps: Gaps = "error") -> Trace:
    """Read a CSV trace file (see the module docstring); TraceError lists every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(file.name, [f"it cannot be read: {exc}"], hint=FORMAT_HINT) from None
    return parse_csv_trace(text, source=file.name, gaps=gaps)


def parse_csv_trace(text: str, *, source: str = "CSV", gaps: Gaps = "error") -> Trace:
    """Parse CSV text into a Trace; TraceError with line numbers for every problem."""
    rows = [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text)), 1) if any(row)]
    problems: list[str] = []
    if not rows:
        raise TraceError(source, ["it has no rows"], hint=FORMAT_HINT)
    first = [cell.strip().lower() for cell in rows[0][1]]
    if first and first[0] == "minute":
        unknown = [c for c in first if c not in REQUIRED + OPTIONAL]
        missing = [c for c in REQUIRED if c not in first]
        if unknown or missing:
            words = [f"unknown column {c!r}" for c in unknown]
            words += [f"missing column {c!r}" for c in missing]
            raise TraceError(source, [f"line 1: {w}" for w in words], hint=FORMAT_HINT)
        columns = first
        rows = rows[1:]
    else:
        columns = list(REQUIRED + OPTIONAL[:1])[: max(3, min(4, len(first)))]
    if not rows:
        raise TraceError(source, ["it has a header but no minutes"], hint=FORMAT_HINT)

    seen: dict[datetime, int] = {}
    parsed: list[tuple[int, datetime, int, int, int | None, list[int] | None]] = []
    models: dict[str, int] = {}
    has_thinking = "thinking_output_tokens" in columns
    has_requests = "request_input_tokens" in columns
    for line, row in rows:
        if len(row) != len(columns):
            problems.append(
                f"line {line}: {len(row)} values, expected {len(columns)} ({', '.join(columns)})"
            )
            continue
        cells = dict(zip(columns, row, strict=True))
        before = len(problems)
        at = _minute(cells["minute"], line, problems)
        inp = _count(cells["input_tokens"], "input_tokens", line, problems)
        out = _count(cells["output_tokens"], "output_tokens", line, problems)
        think = None
        if has_thinking:
            think = _count(
                cells["thinking_output_tokens"], "thinking_output_tokens", line, problems
            )
        sizes = None
        if has_requests:
            sizes = []
            for part in cells["request_input_tokens"].replace(" ", "").split(";"):
                if part:
                    size = _count(part, "request_input_tokens", line, problems)
                    sizes.append(size or 0)
        if "model" in cells and cells["model"].strip():
            models.setdefault(cells["model"].strip(), line)
        if len(problems) > before or at is None or inp is None or out is None:
            continue
        if think is not None and think > out:
            problems.append(
                f"line {line}: thinking_output_tokens {think} is more than output_tokens {out}; "
                "thinking output is part of the output"
            )
            continue
        if sizes and sum(sizes) != inp:
            problems.append(
                f"line {line}: request_input_tokens sum to {sum(sizes)}, not input_tokens {inp}"
            )
            continue
        if at in seen:
            problems.append(
                f"line {line}: minute {cells['minute'].strip()} repeats line {seen[at]}"
                " (one row per minute)"
            )
            continue
        seen[at] = line
        parsed.append((line, at, inp, out, think, sizes))
    if len(models) > 1:
        listed = ", ".join(f"{m} (from line {n})" for m, n in models.items())
        problems.append(f"it mixes models: {listed}; a trace is one model's usage")
    parsed.sort(key=lambda p: p[1])
    for (line_a, at_a, *_), (line_b, at_b, *_) in itertools.pairwise(parsed):
        absent = int((at_b - at_a) / MINUTE) - 1
        if absent and gaps == "error":
            problems.append(
                f"lines {line_a}–{line_b}: {absent} minute{'s' if absent != 1 else ''} missing "
                f"after {at_a.isoformat()} (UTC); pass gaps=zero to read them as no traffic"
            )
    if problems:
        raise TraceError(source, problems, hint=FORMAT_HINT)

    start, end = parsed[0][1], parsed[-1][1]
    n = int((end - start) / MINUTE) + 1
    inputs, outputs = [0] * n, [0] * n
    thinking: list[int] | None = [0] * n if has_thinking else None
    requests: list[list[int]] | None = [[] for _ in range(n)] if has_requests else None
    for _line, at, inp, out, think, request_sizes in parsed:
        i = int((at - start) / MINUTE)
        inputs[i], outputs[i] = inp, out
        if thinking is not None:
            thinking[i] = think or 0
        if requests is not None:
            requests[i] = request_sizes or []
    return Trace(
        source=source,
        model=next(iter(models), None),
        start=start,
        input_tokens=inputs,
        output_tokens=outputs,
        thinking_output_tokens=thinking,
        request_inputs=requests,
        zero_filled_minutes=n - len(parsed),
    )
