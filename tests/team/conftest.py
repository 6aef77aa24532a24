"""Team-mode fixtures: a fresh PostgreSQL database per test, and the Slack suite's helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The fake Slack and the signed wire helpers of the Slack suite.
sys.path.insert(0, str(Path(__file__).parents[1] / "slack"))


@pytest.fixture
def team_db(postgres_url: str) -> str:
    """An empty database of its own on the session's PostgreSQL server (dropped afterwards)."""
    return postgres_url
