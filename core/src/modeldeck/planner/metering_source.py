"""Traces from modeldeck's own metering: a deployment's per-minute roll-ups over a period.

The roll-up has rows only for minutes with calls, so the minutes in between are no traffic:
the trace spans the whole period asked for, with those minutes as zeros (docs/planner.md).
Reasoning tokens of the roll-up are the trace's thinking output tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from modeldeck.planner.trace import MINUTE, Trace, TraceError

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only when a trace is read from it
    from modeldeck.store import Store

MAX_MINUTES = 31 * 24 * 60  # what monitoring keeps (30 days), with a day to spare


def _whole_minute(name: str, at: datetime, *, up: bool) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise TraceError(
            "from metering",
            [f"{name} {at!r} is not a timezone-aware time"],
            hint="Give the period with an offset, e.g. 2026-03-01T00:00+08:00, or a named period.",
        )
    utc = at.astimezone(UTC)
    floor = utc.replace(second=0, microsecond=0)
    return floor + MINUTE if up and floor < utc else floor


def trace_from_metering(store: Store, deployment: str, since: datetime, until: datetime) -> Trace:
    """The trace of deployment `deployment` (id, Model Code or name) for [since, until)."""
    from modeldeck.store.repo import find_deployment
    from modeldeck.store.usage_queries import minute_usage, models_called

    start = _whole_minute("since", since, up=False)
    end = _whole_minute("until", until, up=True)
    source = f"of {deployment} from metering"
    if end <= start:
        raise TraceError(
            source,
            [f"the period {since.isoformat()} to {until.isoformat()} is empty"],
            hint="Ask for a period that ends after it starts.",
        )
    n = int((end - start) / MINUTE)
    if n > MAX_MINUTES:
        raise TraceError(
            source,
            [f"the period is {n:,} minutes; at most {MAX_MINUTES:,} (31 days) are planned at once"],
            hint="Ask for a shorter period, e.g. period=last-month.",
        )
    with store.session() as session:
        row = find_deployment(session, deployment)
        code = row.deployed_model or row.id
        models = models_called(session, code, start, end)
        usage = minute_usage(session, code, start, end)
        model = row.model
    others = [m for m in models if m != model]
    if others:
        raise TraceError(
            source,
            [f"its calls name models {', '.join(models)}, but it deploys {model}"],
            hint="Plan one model at a time: a trace is one model's usage.",
        )
    inputs, outputs, thinking = [0] * n, [0] * n, [0] * n
    for minute, inp, out, reasoning in usage:
        i = int((minute.astimezone(UTC) - start) / MINUTE)
        inputs[i], outputs[i], thinking[i] = inp, out, min(reasoning, out)
    return Trace(
        source=source,
        model=model,
        start=start,
        input_tokens=inputs,
        output_tokens=outputs,
        thinking_output_tokens=thinking if any(thinking) else None,
        zero_filled_minutes=n - len(usage),
    )
