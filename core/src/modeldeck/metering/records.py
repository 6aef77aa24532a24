"""One metered call: the journal entry made on the call path, and the record stored from it.

The call path only builds a short list (an *entry*) and writes it to the journal as one JSON
line (a flat JSON array of scalars, integers for time: the cheapest JSON to encode); checking
the counts, converting the time and pricing happen on the writer thread, which turns the entry
into a `CallRecord`. An entry (version 1) holds, in order (`ENTRY_FIELDS`): 1, `call_id`,
`deployed_model`, `at_us` (start, epoch microseconds, UTC), `status_code`, `model`, `mode`,
`request_id`, `usage` ([prompt, completion, reasoning, cached] tokens as the answer's usage
object gave them, or null when it had none), `overflow`, `latency_us`, `error` and, only when
already priced, `cost` (a decimal string or null).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

OVERFLOW_HEADER = "x-dashscope-ptu-overflow"
RAW_VERSION = 1
ENTRY_FIELDS = (
    "v",
    "call_id",
    "deployed_model",
    "at_us",
    "status_code",
    "model",
    "mode",
    "request_id",
    "usage",
    "overflow",
    "latency_us",
    "error",
    "cost",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
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

    def to_entry(self) -> list[Any]:
        """This record as a journal entry (usage rebuilt from the counts, the cost kept)."""
        return [
            RAW_VERSION,
            self.call_id,
            self.deployed_model,
            epoch_us(self.at),
            self.status_code,
            self.model,
            self.mode,
            self.request_id,
            [self.input_tokens, self.output_tokens, self.reasoning_tokens, self.cached_tokens],
            self.overflow,
            round(self.latency_ms * 1000),
            self.error,
            None if self.cost is None else str(self.cost),
        ]

    def row(self) -> dict[str, Any]:
        """Column values for `usage_calls` (a shallow dict: `asdict` deep-copies, 10x slower)."""
        return {name: getattr(self, name) for name in FIELDS}


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CallRecord))
_encode = json.JSONEncoder(separators=(",", ":")).encode


def epoch_us(at: datetime) -> int:
    """An aware instant as whole microseconds since the epoch (exact, no float)."""
    return (at - _EPOCH) // _MICROSECOND


def encode_entry(entry: list[Any]) -> bytes:
    """One journal line: the entry as compact JSON, then LF."""
    return _encode(entry).encode() + b"\n"


def decode_raw(line: str | bytes) -> dict[str, Any]:
    """A journal line back to its fields by name; ValueError when it is not an entry."""
    entry = json.loads(line)
    if not isinstance(entry, list) or not entry or entry[0] != RAW_VERSION:
        raise ValueError("a journal line must be a version-1 entry (a JSON array)")
    if len(entry) not in (len(ENTRY_FIELDS) - 1, len(ENTRY_FIELDS)):
        raise ValueError(f"a journal entry has {len(entry)} fields")
    raw = dict(zip(ENTRY_FIELDS, entry, strict=False))
    call_id, deployed_model = raw["call_id"], raw["deployed_model"]
    if not isinstance(call_id, str) or not call_id or not isinstance(deployed_model, str):
        raise ValueError("a journal entry needs call_id and deployed_model")
    for name in ("at_us", "status_code", "latency_us"):
        if not isinstance(raw[name], int) or isinstance(raw[name], bool):
            raise ValueError(f"a journal entry needs an integer {name}")
    return raw


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def record_from_raw(raw: dict[str, Any]) -> CallRecord:
    """The record of a raw entry, without its cost (see `OverflowPricer.build`)."""
    counts = entry_counts(raw.get("usage"))
    return CallRecord(
        call_id=raw["call_id"],
        deployed_model=raw["deployed_model"],
        at=_EPOCH + raw["at_us"] * _MICROSECOND,
        status_code=raw["status_code"],
        model=text_or_none(raw.get("model")),
        mode=text_or_none(raw.get("mode")),
        request_id=text_or_none(raw.get("request_id")),
        input_tokens=counts.input_tokens,
        output_tokens=counts.output_tokens,
        reasoning_tokens=counts.reasoning_tokens,
        cached_tokens=counts.cached_tokens,
        overflow=raw.get("overflow") is True,
        latency_ms=raw["latency_us"] / 1000,
        error=text_or_none(raw.get("error")),
    )


@dataclass(frozen=True, slots=True)
class UsageCounts:
    """Token counts read from an OpenAI-compatible `usage` object (missing counts are 0)."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_list(usage: Any) -> list[Any] | None:
    """The call path's cheap copy of a usage object: [prompt, completion, reasoning, cached]."""
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    return [
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        completion.get("reasoning_tokens") if isinstance(completion, dict) else 0,
        prompt.get("cached_tokens") if isinstance(prompt, dict) else 0,
    ]


def entry_counts(value: Any) -> UsageCounts:
    """Counts from an entry's `usage` list (anything odd in it counts as 0)."""
    if not isinstance(value, list) or len(value) != 4:
        return UsageCounts()
    prompt, completion, reasoning, cached = (_count(v) for v in value)
    return UsageCounts(prompt, completion, min(reasoning, completion), cached)


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


_OVERFLOW_KEY = OVERFLOW_HEADER.encode()
_REQUEST_ID_KEYS = (b"x-request-id", b"x-dashscope-request-id")


def scan_headers(headers: Any) -> tuple[str | None, bool]:
    """(request id, overflow flag) of an httpx response's headers, in one pass over them."""
    request_id: str | None = None
    overflow = False
    if headers is None:
        return request_id, overflow
    for key, value in headers.raw:
        key = key.lower()
        if key == _OVERFLOW_KEY:
            overflow = value.strip().lower() == b"true"
        elif key in _REQUEST_ID_KEYS and (request_id is None or key == _REQUEST_ID_KEYS[0]):
            request_id = value.decode("latin-1")
    return request_id, overflow


def overflow_flag(headers: Any) -> bool:
    """Whether a response carries `x-dashscope-ptu-overflow: true` (case-insensitive value)."""
    value = headers.get(OVERFLOW_HEADER) if headers is not None else None
    return isinstance(value, str) and value.strip().lower() == "true"
