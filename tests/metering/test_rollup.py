"""Per-minute roll-ups equal the sum of the calls: incremental, rebuilt, and per the sandbox."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from modeldeck.errors import ValidationFailed
from modeldeck.metering import Recorder, minute_stats, rollup
from modeldeck.provider import ThrottlingError
from modeldeck.store import Store
from modeldeck.store.models import UsageCallRow, UsageMinuteRow
from tests.metering.meterhelpers import Deck, builtin_catalog, stepping_clock, user, words

T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
M2 = timedelta(minutes=2)
COLUMNS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "overflow_calls",
    "overflow_input_tokens",
    "overflow_output_tokens",
    "overflow_cost",
    "errors",
)


def minutes_from_calls(store: Store) -> dict[tuple[str, datetime], dict[str, Any]]:
    """The roll-up computed here, independently, from the stored calls."""
    out: dict[tuple[str, datetime], dict[str, Any]] = defaultdict(
        lambda: {c: Decimal(0) if c == "overflow_cost" else 0 for c in COLUMNS}
    )
    with store.session() as session:
        for call in session.scalars(select(UsageCallRow)):
            bucket = out[(call.deployed_model, call.at.replace(second=0, microsecond=0))]
            failed = call.status_code >= 400 or call.status_code == 0 or call.error is not None
            bucket["calls"] += 1
            bucket["input_tokens"] += call.input_tokens
            bucket["output_tokens"] += call.output_tokens
            bucket["reasoning_tokens"] += call.reasoning_tokens
            bucket["errors"] += int(failed)
            if call.overflow and not failed:
                bucket["overflow_calls"] += 1
                bucket["overflow_input_tokens"] += call.input_tokens
                bucket["overflow_output_tokens"] += call.output_tokens
                bucket["overflow_cost"] += call.cost or Decimal(0)
    return dict(out)


def minutes_in_store(store: Store) -> dict[tuple[str, datetime], dict[str, Any]]:
    with store.session() as session:
        return {
            (row.deployed_model, row.minute): {c: getattr(row, c) for c in COLUMNS}
            for row in session.scalars(select(UsageMinuteRow))
        }


def test_rollups_per_minute_equal_the_sum_of_the_calls(deck: Deck, tmp_path: Path) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000, overflow=True)
    refusing = deck.deploy_ptu(output_tpm=1_000, overflow=False)
    # Calls start in three different minutes (the client's clock), three per minute.
    starts = [T0 + timedelta(seconds=s) for s in (1, 20, 59, 60, 61, 119, 125, 150, 179)]
    # A small batch size makes the writer add to the same minute rows in several transactions.
    recorder = Recorder(
        deck.store, tmp_path / "journal", catalog=builtin_catalog(), batch_size=2, batch_interval=0
    )
    with deck.client(clock=stepping_clock(*starts), recorder=recorder, catalog=None) as client:
        for i in range(6):
            client.chat(dm, user(words(200 + i)), max_tokens=300)  # overflows from the 4th on
        refused = 0
        for _ in range(3):
            try:
                client.chat(refusing, user(words(50)), max_tokens=600)
            except ThrottlingError:
                refused += 1  # the 2nd and 3rd: recorded as errors
        assert client.flush(30)
    recorder.close()

    assert refused == 2
    expected = minutes_from_calls(deck.store)
    assert set(expected) == {(dm, T0), (dm, T0 + timedelta(minutes=1)), (refusing, T0 + M2)}
    assert expected[(dm, T0)]["calls"] == 3
    assert sum(m["overflow_calls"] for m in expected.values()) == 3
    assert sum(m["errors"] for m in expected.values()) == 2
    assert minutes_in_store(deck.store) == expected

    # The sandbox counted the same calls on its side (refused ones as throttled).
    served = deck.sandbox_usage(dm)
    assert sum(r["requests"] for r in served) == sum(
        m["calls"] for (d, _), m in expected.items() if d == dm
    )
    for column in ("input_tokens", "output_tokens", "overflow_input_tokens"):
        assert sum(r[column] for r in served) == sum(
            m[column] for (d, _), m in expected.items() if d == dm
        )
    assert sum(r["overflow_requests"] for r in served) == 3

    # A rebuild from the calls gives the same rows, after losing or corrupting them.
    with deck.store.session() as session:
        session.execute(delete(UsageMinuteRow).where(UsageMinuteRow.minute == T0))
        session.execute(
            update(UsageMinuteRow)
            .where(UsageMinuteRow.minute == T0 + timedelta(minutes=1))
            .values(calls=999)
        )
    assert minutes_in_store(deck.store) != expected
    assert rollup(deck.store, T0, T0 + timedelta(minutes=3)) == 3
    assert minutes_in_store(deck.store) == expected

    stats = minute_stats(deck.store, dm, T0, T0 + timedelta(minutes=3))
    assert [(s.minute, s.calls) for s in stats] == [(T0, 3), (T0 + timedelta(minutes=1), 3)]
    assert sum(s.overflow_calls for s in stats) == 3


def test_rollup_rebuilds_only_its_range(deck: Deck, tmp_path: Path) -> None:
    dm = deck.deploy_ptu(output_tpm=100_000)
    starts = [T0 + timedelta(minutes=m, seconds=5) for m in range(4)]
    with deck.client(clock=stepping_clock(*starts)) as client:
        for _ in starts:
            client.chat(dm, user(words(10)), max_tokens=5)
    with deck.store.session() as session:
        session.execute(delete(UsageMinuteRow))
    # [T0+1m, T0+2m30s) touches minutes 1 and 2 only.
    assert rollup(deck.store, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2, seconds=30)) == 2
    assert sorted(minute for _, minute in minutes_in_store(deck.store)) == [
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=2),
    ]


def test_minute_stats_fill_gives_a_continuous_series(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=100_000)
    starts = [T0 + timedelta(seconds=10), T0 + timedelta(minutes=3, seconds=10)]
    with deck.client(clock=stepping_clock(*starts)) as client:
        for _ in starts:
            client.chat(dm, user(words(7)), max_tokens=3)
    sparse = minute_stats(deck.store, dm, T0, T0 + timedelta(minutes=5))
    assert [s.minute for s in sparse] == [T0, T0 + timedelta(minutes=3)]
    assert [(s.input_tokens, s.output_tokens, s.tokens) for s in sparse] == [(7, 3, 10)] * 2
    full = minute_stats(deck.store, dm, T0, T0 + timedelta(minutes=5), fill=True)
    assert [s.calls for s in full] == [1, 0, 0, 1, 0]
    assert minute_stats(deck.store, "no-such-deployment", T0, T0 + timedelta(minutes=5)) == []


def test_ranges_must_be_aware_and_ordered(deck: Deck) -> None:
    naive = datetime(2026, 3, 1, 10, 0)
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        minute_stats(deck.store, "x", naive, T0)
    with pytest.raises(ValidationFailed, match="before since"):
        rollup(deck.store, T0, T0 - timedelta(minutes=5))
    with pytest.raises(ValidationFailed, match="at most 31 days"):
        minute_stats(deck.store, "x", T0, T0 + timedelta(days=40), fill=True)
