"""Team-mode fixtures: a fresh PostgreSQL database per test, and the Slack suite's helpers."""

from __future__ import annotations

import pytest


@pytest.fixture
def team_db(postgres_url: str) -> str:
    """An empty database of its own on the session's PostgreSQL server (dropped afterwards)."""
    return postgres_url
