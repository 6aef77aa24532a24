"""Team-mode fixtures: a fresh PostgreSQL database per test, and the Slack suite's helpers."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The fake Slack and the signed wire helpers of the Slack suite.
sys.path.insert(0, str(Path(__file__).parents[1] / "slack"))


@pytest.fixture
def team_db(postgres_url: str) -> Iterator[str]:
    """An empty database of its own on the session's PostgreSQL server (dropped afterwards)."""
    import psycopg

    name = f"team_{secrets.token_hex(4)}"
    base, _, _ = postgres_url.rpartition("/")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
