"""The migrations create every index the tables declare (the cost, forecast, alert and request
queries filter on them), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from modeldeck.store import Store
from modeldeck.store.models import Base

FILTERED = {
    ("audit_log", "subject"),
    ("requests", "deployment_id"),
    ("requests", "status", "expires_at"),
    ("usage_calls", "deployed_model", "at"),
    ("usage_minutes", "minute"),
}


def check(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    index_diffs = [d for d in diffs if isinstance(d, tuple) and "index" in d[0]]
    assert index_diffs == []
    declared = {
        (table.name, *index.columns.keys())
        for table in Base.metadata.tables.values()
        for index in table.indexes
    }
    assert declared >= FILTERED


def test_migrated_sqlite_has_the_declared_indexes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    check(store)
    store.dispose()


@pytest.mark.postgres
def test_migrated_postgres_has_the_declared_indexes(postgres_url: str) -> None:
    store = Store(postgres_url)
    check(store)
    store.dispose()
