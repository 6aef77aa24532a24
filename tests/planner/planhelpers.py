"""Shared helpers for the planner tests: traces from lists, and the built-in catalog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from modeldeck.catalog import Catalog, CatalogBuilder
from modeldeck.catalog.data import builtin_entries
from modeldeck.planner import Trace

START = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing


def catalog() -> Catalog:
    """The seed's prices, without loading plugins."""
    builder = CatalogBuilder()
    builder.register(builtin_entries(), source="built-in")
    return builder.build()


def trace(
    inputs: Sequence[int],
    outputs: Sequence[int],
    *,
    thinking: Sequence[int] | None = None,
    requests: Sequence[Sequence[int]] | None = None,
    start: datetime = START,
) -> Trace:
    return Trace(
        source="test",
        start=start,
        input_tokens=list(inputs),
        output_tokens=list(outputs),
        thinking_output_tokens=None if thinking is None else list(thinking),
        request_inputs=None if requests is None else [list(r) for r in requests],
    )
