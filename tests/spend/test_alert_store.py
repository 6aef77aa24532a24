"""raise_due claims each alert once: a second evaluation raises nothing new, and of two
evaluators racing on the same store (SQLite file or PostgreSQL) exactly one raises each alert."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from modeldeck.alerts.models import AlertCandidate
from modeldeck.store import Store
from modeldeck.store.alerts import AlertRow, list_alerts, raise_due
from modeldeck.timeutil import BEIJING

NOW = datetime(2026, 3, 11, 14, 30, tzinfo=BEIJING)


def candidates(n: int = 20) -> list[AlertCandidate]:
    return [
        AlertCandidate(
            kind="idle",
            scope=f"deployment:dep_{i}",
            period="2026-03-11T08:30:00+08:00",
            severity="info",
            title=f"dep_{i} idle",
            text="No calls.",
            at=NOW,
            data={"n": str(i)},
        )
        for i in range(n)
    ]


def _once(store: Store) -> None:
    with store.session() as s:
        first = raise_due(s, candidates(3), raised_by="a", now=NOW)
    assert [a.scope for a in first] == ["deployment:dep_0", "deployment:dep_1", "deployment:dep_2"]
    assert first[0].raised_at == NOW and first[0].data == {"n": "0"}
    with store.session() as s:
        assert raise_due(s, candidates(4), now=NOW + timedelta(minutes=1))[0].scope == (
            "deployment:dep_3"
        )
    with store.session() as s:
        assert raise_due(s, candidates(4)) == []
        assert len(list_alerts(s)) == 4
        assert len(list_alerts(s, since=NOW + timedelta(seconds=30))) == 1
    dup = candidates(1) * 2
    with store.session() as s:
        assert raise_due(s, dup) == []


def _race(store: Store) -> None:
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def claim(name: str) -> None:
        try:
            with store.session() as s:
                barrier.wait(timeout=10)
                results[name] = len(raise_due(s, candidates(), raised_by=name, now=NOW))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("replica-a", "replica-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sum(results.values()) == 20  # every alert raised exactly once between the two
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AlertRow)) == 20


def test_sqlite_raises_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    assert "alerts" in inspect(store.engine).get_table_names()
    _once(store)
    store.dispose()


def test_sqlite_racing_claimers_raise_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    _race(store)
    store.dispose()


@pytest.mark.postgres
def test_postgres_raises_once(postgres_url: str) -> None:
    store = Store(postgres_url)
    _once(store)
    store.dispose()


@pytest.mark.postgres
def test_postgres_racing_claimers_raise_once(postgres_url: str) -> None:
    store = Store(postgres_url)
    _race(store)
    store.dispose()
