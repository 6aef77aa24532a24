"""One metered call as a record: what the journal stores, the writer inserts and tests compare."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

OVERFLOW_HEADER = "x-dashscope-ptu-overflow"
# Status code of a call that got no HTTP answer at all (connection refused, dropped, timed out).
NO_RESPONSE = 0


@dataclass(slots=True)
class CallRecord:
    """Usage of one call to a deployed model.

    `output_tokens` is `usage.completion_tokens`, which includes `reasoning_tokens` (as in the
    OpenAI usage object). `cost` is the pay-as-you-go price of an overflow call, `Decimal(0)` for
    a call served within the reservation or refused, and None when its price is not listed.
    """

    call_id: str
    deployed_model: str
    at: datetime
    status_code: int
    model: str | None = None
    mode: str | None = None
    request_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    overflow: bool = False
    latency_ms: float = 0.0
    cost: Decimal | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the call failed (an HTTP error, no answer, or an error in the stream)."""
        return self.error is not None or self.status_code >= 400 or self.status_code == NO_RESPONSE

    def to_json_line(self) -> bytes:
        """One journal line: JSON, money as a decimal string, time in ISO 8601 UTC, then LF."""
        data = asdict(self)
        data["at"] = self.at.astimezone(UTC).isoformat()
        data["cost"] = None if self.cost is None else str(self.cost)
        return json.dumps(data, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: str | bytes) -> CallRecord:
        """Parse a journal line (ValueError, KeyError or TypeError when it is not one)."""
        data: dict[str, Any] = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a journal line must be a JSON object")
        at = datetime.fromisoformat(data.pop("at"))
        if at.tzinfo is None:
            raise ValueError("a journal line has a naive time")
        cost = data.pop("cost", None)
        return cls(at=at, cost=None if cost is None else Decimal(cost), **data)

    def row(self) -> dict[str, Any]:
        """Column values for `usage_calls`."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class UsageCounts:
    """Token counts read from an OpenAI-compatible `usage` object (missing counts are 0)."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_counts(usage: Any) -> UsageCounts:
    """Counts from `usage` (`prompt_tokens`, `completion_tokens`, `*_details`); tolerant of gaps."""
    if not isinstance(usage, dict):
        return UsageCounts()
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    output = _count(usage.get("completion_tokens"))
    reasoning = _count(completion.get("reasoning_tokens")) if isinstance(completion, dict) else 0
    return UsageCounts(
        input_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=output,
        reasoning_tokens=min(reasoning, output),  # completion includes reasoning
        cached_tokens=_count(prompt.get("cached_tokens")) if isinstance(prompt, dict) else 0,
    )


def overflow_flag(headers: Any) -> bool:
    """Whether a response carries `x-dashscope-ptu-overflow: true` (case-insensitive value)."""
    value = headers.get(OVERFLOW_HEADER) if headers is not None else None
    return isinstance(value, str) and value.strip().lower() == "true"
