"""Fixtures shared by every area of the suite: an isolated environment and a real PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeldeck import plugins

POSTGRES_ADMIN_URL = os.environ.get(
    "MODELDECK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data dir, no stray config file, and a fresh plugin manager."""
    data_dir = tmp_path / "modeldeck-data"
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(data_dir))
    for var in (
        "MODELDECK_CONFIG",
        "MODELDECK_DATABASE_URL",
        "MODELDECK_LOAD_PLUGINS",
        "MODELDECK_TRACE_PLUGINS",
        "MODELDECK_SERVER__URL",
        "DASHSCOPE_HTTP_BASE_URL",
        "DASHSCOPE_API_KEY",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_plugin_manager()
    yield data_dir
    plugins.reset_plugin_manager()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session (dropped afterwards).

    The team setup is tested on the real server this machine runs; when it is absent the
    test fails loudly (never skips), so CI cannot pass without it.
    """
    import psycopg

    name = f"modeldeck_t_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__}). "
            "Team-mode tests need it: start PostgreSQL or set MODELDECK_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
