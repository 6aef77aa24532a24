"""The one shape every usage trace has: per-minute input, output and thinking output tokens.

A trace is a run of consecutive whole minutes (UTC), column-wise so a 30-day trace (43,200
minutes) is a few lists, not 43,200 objects. Sources (CSV, metering, monitoring) build it and
report every problem they find at once through `TraceError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modeldeck.errors import UserError

MINUTE = timedelta(minutes=1)
MAX_PROBLEMS_SHOWN = 20


class TraceError(UserError):
    """A trace that cannot be planned: every problem found, each with where it is."""

    def __init__(self, source: str, problems: Sequence[str], *, hint: str | None = None) -> None:
        shown = list(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown)
        tail = f"\n  … and {more} more problem{'s' if more != 1 else ''}" if more else ""
        count = len(problems)
        super().__init__(
            f"The trace {source} has {count} problem{'s' if count != 1 else ''}:\n{lines}{tail}",
            hint=hint,
        )
        self.source = source
        self.problems = list(problems)


class Trace(BaseModel):
    """Usage per minute from `start` (UTC, whole minute), one entry per consecutive minute.

    `output_tokens` includes the thinking output; `thinking_output_tokens` (None: not known) is
    the part of it that was reasoning. `request_inputs`, when known, lists each minute's
    requests by their input tokens (they sum to the minute's input tokens) for tiered prices.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    model: str | None = None
    start: datetime
    input_tokens: list[int]
    output_tokens: list[int]
    thinking_output_tokens: list[int] | None = None
    request_inputs: list[list[int]] | None = None
    zero_filled_minutes: int = Field(default=0, description="minutes without data, read as zero")

    @model_validator(mode="after")
    def _check(self) -> Trace:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if self.start.astimezone(UTC) != self.start.astimezone(UTC).replace(
            second=0, microsecond=0
        ):
            raise ValueError("start must be on a whole minute")
        n = len(self.input_tokens)
        if n == 0:
            raise ValueError("a trace needs at least one minute")
        columns: list[tuple[str, Sequence[object] | None]] = [
            ("output_tokens", self.output_tokens),
            ("thinking_output_tokens", self.thinking_output_tokens),
            ("request_inputs", self.request_inputs),
        ]
        for name, column in columns:
            if column is not None and len(column) != n:
                raise ValueError(f"{name} has {len(column)} minutes, input_tokens has {n}")
        if min(self.input_tokens) < 0 or min(self.output_tokens) < 0:
            raise ValueError("token counts must not be negative")
        if self.thinking_output_tokens is not None:
            for i, (think, out) in enumerate(
                zip(self.thinking_output_tokens, self.output_tokens, strict=True)
            ):
                if think < 0 or think > out:
                    raise ValueError(f"minute {i}: thinking output must be within 0..output")
        if self.request_inputs is not None:
            for i, (sizes, total) in enumerate(
                zip(self.request_inputs, self.input_tokens, strict=True)
            ):
                if sizes and sum(sizes) != total:
                    raise ValueError(f"minute {i}: request input sizes do not sum to its input")
        return self

    @property
    def minutes(self) -> int:
        """M, the number of minutes the trace spans."""
        return len(self.input_tokens)

    @property
    def end(self) -> datetime:
        """The end of the last minute (exclusive)."""
        return self.start + self.minutes * MINUTE

    @property
    def has_thinking(self) -> bool:
        return self.thinking_output_tokens is not None and any(self.thinking_output_tokens)

    def minute_at(self, index: int) -> datetime:
        return self.start + index * MINUTE

    def scaled(self, factor_num: int, factor_den: int) -> Trace:
        """Every count times num/den, rounded half up to whole tokens (request sizes too)."""

        def scale(values: list[int]) -> list[int]:
            return [(2 * v * factor_num + factor_den) // (2 * factor_den) for v in values]

        thinking = None
        outputs = scale(self.output_tokens)
        if self.thinking_output_tokens is not None:
            thinking = [
                min(t, o) for t, o in zip(scale(self.thinking_output_tokens), outputs, strict=True)
            ]
        requests = None
        inputs = scale(self.input_tokens)
        if self.request_inputs is not None:
            requests = []
            for sizes, total in zip(self.request_inputs, inputs, strict=True):
                grown = scale(sizes)
                if grown:
                    grown[-1] += total - sum(grown)  # keep the sum equal to the minute's input
                requests.append(grown)
        return self.model_copy(
            update={
                "input_tokens": inputs,
                "output_tokens": outputs,
                "thinking_output_tokens": thinking,
                "request_inputs": requests,
                "source": f"{self.source} × {factor_num}/{factor_den}",
            }
        )
