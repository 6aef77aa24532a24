"""Traces from modeldeck's metering roll-ups: a deployment and a period, quiet minutes as zeros."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modeldeck.errors import NotFound
from modeldeck.planner import TraceError, trace_from_metering
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow, UsageCallRow, UsageMinuteRow
from modeldeck.timeutil import BEIJING

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'modeldeck.db'}")
    with store.session() as session:
        session.add(
            DeploymentRow(
                id="dep-1", deployed_model="qwen3-max-ptu-a1", name="chat",
                model="qwen3-max-2025-09-23", plan="ptu", status="RUNNING",
                input_tpm=10_000, output_tpm=1_000,
                created_at=T0, updated_at=T0,
            )
        )  # fmt: skip
        for offset, (inp, out, reasoning) in {1: (5000, 400, 0), 3: (25000, 900, 0)}.items():
            session.add(
                UsageMinuteRow(
                    deployed_model="qwen3-max-ptu-a1", minute=T0 + offset * MIN, calls=3,
                    input_tokens=inp, output_tokens=out, reasoning_tokens=reasoning,
                )
            )  # fmt: skip
        # another deployment's minute, and one outside the period: neither counts
        session.add(UsageMinuteRow(deployed_model="other", minute=T0, input_tokens=9, calls=1))
        session.add(
            UsageMinuteRow(deployed_model="qwen3-max-ptu-a1", minute=T0 + 10 * MIN, calls=1,
                           input_tokens=7)
        )  # fmt: skip
        session.add(
            UsageCallRow(
                call_id="c1", deployed_model="qwen3-max-ptu-a1", model="qwen3-max-2025-09-23",
                at=T0 + MIN, status_code=200,
            )
        )  # fmt: skip
        session.commit()
    yield store
    store.dispose()


def test_period_becomes_a_continuous_trace(store: Store) -> None:
    since = T0.astimezone(BEIJING)
    trace = trace_from_metering(store, "chat", since, since + 5 * MIN)
    assert trace.start == T0
    assert trace.minutes == 5
    assert trace.input_tokens == [0, 5000, 0, 25000, 0]
    assert trace.output_tokens == [0, 400, 0, 900, 0]
    assert trace.thinking_output_tokens is None
    assert trace.zero_filled_minutes == 3
    assert trace.model == "qwen3-max-2025-09-23"
    # the same deployment by id and by Model Code
    assert trace_from_metering(store, "dep-1", T0, T0 + 5 * MIN).input_tokens == trace.input_tokens


def test_partial_minutes_widen_to_whole_ones(store: Store) -> None:
    trace = trace_from_metering(store, "qwen3-max-ptu-a1", T0 + MIN / 2, T0 + 3 * MIN + MIN / 2)
    assert trace.start == T0
    assert trace.input_tokens == [0, 5000, 0, 25000]


def test_reasoning_tokens_are_thinking_output(store: Store) -> None:
    with store.session() as session:
        row = session.get(UsageMinuteRow, ("qwen3-max-ptu-a1", T0 + MIN))
        assert row is not None
        row.reasoning_tokens = 150
        session.commit()
    trace = trace_from_metering(store, "chat", T0, T0 + 2 * MIN)
    assert trace.thinking_output_tokens == [0, 150]


def test_mixed_models_unknown_deployment_and_bad_periods(store: Store) -> None:
    with store.session() as session:
        session.add(
            UsageCallRow(call_id="c2", deployed_model="qwen3-max-ptu-a1",
                         model="qwen-plus-2025-12-01", at=T0 + 2 * MIN, status_code=200)
        )  # fmt: skip
        session.commit()
    with pytest.raises(TraceError, match="name models qwen-plus-2025-12-01, qwen3-max-2025-09-23"):
        trace_from_metering(store, "chat", T0, T0 + 5 * MIN)
    with pytest.raises(NotFound, match="No deployment called 'nope'"):
        trace_from_metering(store, "nope", T0, T0 + 5 * MIN)
    with pytest.raises(TraceError, match="is empty"):
        trace_from_metering(store, "chat", T0, T0)
    with pytest.raises(TraceError, match="not a timezone-aware time"):
        trace_from_metering(store, "chat", datetime(2026, 3, 1), T0)
    with pytest.raises(TraceError, match="at most 44,640"):
        trace_from_metering(store, "chat", T0, T0 + timedelta(days=40))
