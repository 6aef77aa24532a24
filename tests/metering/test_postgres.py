"""The writer on PostgreSQL: concurrent recorders (as in several processes) add up exactly."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from modeldeck.metering import CallRecord, Recorder, minute_stats, rollup
from modeldeck.store import Store
from modeldeck.store.models import UsageCallRow, UsageMinuteRow
from tests.metering.meterhelpers import builtin_catalog

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    store = Store(postgres_url)
    with store.session() as session:
        session.execute(delete(UsageCallRow))
        session.execute(delete(UsageMinuteRow))
    yield store
    store.dispose()


def make(i: int, deployed_model: str) -> CallRecord:
    overflow = i % 3 == 0
    return CallRecord(
        call_id=uuid.uuid4().hex,
        deployed_model=deployed_model,
        at=T0 + timedelta(seconds=i % 180),
        status_code=429 if i % 11 == 0 else 200,
        input_tokens=100 + i % 7,
        output_tokens=10,
        overflow=overflow,
        cost=Decimal("0.000123") if overflow else Decimal(0),
    )


def test_concurrent_recorders_on_postgres_add_up(pg_store: Store, tmp_path: Path) -> None:
    recorders = [
        Recorder(
            pg_store,
            tmp_path / f"j{k}",
            catalog=builtin_catalog(),
            batch_size=7,
            batch_interval=0.001,
        )
        for k in range(3)
    ]
    made: list[CallRecord] = []
    lock = threading.Lock()

    def work(recorder: Recorder) -> None:
        for i in range(300):
            rec = make(i, "dm-shared")
            with lock:
                made.append(rec)
            recorder.record(rec)

    threads = [threading.Thread(target=work, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for recorder in recorders:
        recorder.close()

    stats = minute_stats(pg_store, "dm-shared", T0, T0 + timedelta(minutes=3))
    assert [s.minute for s in stats] == [T0 + timedelta(minutes=m) for m in range(3)]
    assert sum(s.calls for s in stats) == len(made) == 900
    served_overflow = [r for r in made if r.overflow and not r.failed]
    assert sum(s.overflow_calls for s in stats) == len(served_overflow)
    assert sum((s.overflow_cost for s in stats), Decimal(0)) == Decimal("0.000123") * len(
        served_overflow
    )
    assert sum(s.errors for s in stats) == sum(r.failed for r in made)
    assert sum(s.input_tokens for s in stats) == sum(r.input_tokens for r in made)

    incremental = [s.model_dump() for s in stats]
    assert rollup(pg_store, T0, T0 + timedelta(minutes=3)) == 3
    rebuilt = minute_stats(pg_store, "dm-shared", T0, T0 + timedelta(minutes=3))
    assert [s.model_dump() for s in rebuilt] == incremental
    with pg_store.session() as session:
        assert session.scalar(select(func.count()).select_from(UsageCallRow)) == 900
