"""Claimed rows: of several processes claiming one key, exactly one wins (SQLite, PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from modeldeck.store import Store, claims
from modeldeck.timeutil import utcnow


def race(url: str) -> None:
    stores = [Store(url) for _ in range(2)]  # two replicas on one database

    def one(i: int) -> bool:
        with stores[i % 2].session() as session:
            return claims.claim(session, "test", "k:1", by=f"r{i % 2}")

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(one, range(16)))
    assert won.count(True) == 1
    with stores[0].session() as session:
        assert claims.claimed(session, "test") == ["k:1"]
        claims.release(session, "k:1")
    with stores[1].session() as session:
        assert claims.claim(session, "test", "k:1")  # released: claimable again
        old = utcnow() - timedelta(days=2)
        assert claims.claim(session, "test", "k:old", now=old)
    with stores[1].session() as session:
        assert claims.prune(session, "test", utcnow() - timedelta(days=1)) == 1
        assert claims.claimed(session, "test") == ["k:1"]
    for store in stores:
        store.dispose()


def test_one_claim_wins_on_sqlite(tmp_path: Path) -> None:
    race(f"sqlite:///{tmp_path / 'c.db'}")


@pytest.mark.postgres
def test_one_claim_wins_on_postgres(postgres_url: str) -> None:
    race(postgres_url)
