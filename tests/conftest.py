"""Fixtures shared by every area of the suite: an isolated environment and a real PostgreSQL.

Also a session-wide secret scan: every log record of the run (all loggers, DEBUG) is checked for
the secrets the suite configures in every form they can take (escaped, bytes, JSON, URL-encoded,
base64), and the run fails at the end if any record carried one.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeldeck import masking, plugins

POSTGRES_ADMIN_URL = os.environ.get(
    "MODELDECK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

# The Model Studio key the suite's secret tests configure (servers, kernels, sandboxes).
DASHSCOPE_TEST_KEY = "sk-dashscope-test-7d41c0e9-never-shown"
# Any full modeldeck API token (`mdk_` + 32 random bytes, url-safe base64) is a secret.
API_TOKEN_PATTERN = re.compile(r"mdk_[A-Za-z0-9_-]{43}")


def _slack_secrets() -> tuple[str, str]:
    """BOT_TOKEN and SIGNING_SECRET of tests/slack/slack_env.py, read without importing it."""
    path = Path(__file__).parent / "slack" / "slack_env.py"
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    missing = [name for name in ("BOT_TOKEN", "SIGNING_SECRET") if name not in found]
    if missing:
        raise pytest.UsageError(f"{path.name} no longer defines {', '.join(missing)}")
    return found["BOT_TOKEN"], found["SIGNING_SECRET"]


_BOT_TOKEN, _SIGNING_SECRET = _slack_secrets()
SUITE_SECRETS = {
    "slack_bot_token": _BOT_TOKEN,
    "slack_signing_secret": _SIGNING_SECRET,
    "dashscope_api_key": DASHSCOPE_TEST_KEY,
}


class SecretScanHandler(logging.Handler):
    """Checks every record as it is emitted; keeps only the ones that carried a secret."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []
        self.seen = 0
        self._leak_lock = threading.Lock()

    @staticmethod
    def find(text: str) -> list[str]:
        """The suite's secrets in `text` in any form (escaped, URL-encoded, base64...: see
        modeldeck.masking.forms), shortened so a report never repeats one."""
        hits = [
            secret
            for secret in SUITE_SECRETS.values()
            if any(form in text for form in masking.forms(secret))
        ]
        hits += API_TOKEN_PATTERN.findall(text)
        return [f"{hit[:8]}… ({len(hit)} chars)" for hit in hits]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string still gets its raw parts scanned
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        found = self.find(text)
        with self._leak_lock:
            self.seen += 1
            if found:
                self.leaks.append(
                    f"{record.name} {record.levelname} {record.pathname}:{record.lineno} "
                    f"carried {', '.join(found)}"
                )


_scanner = SecretScanHandler()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_scanner)
    root.setLevel(logging.DEBUG)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Keep the root at DEBUG even if an earlier test raised it."""
    logging.getLogger().setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _scanner.leaks and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _scanner.leaks:
        return
    terminalreporter.section("secrets in log records", sep="=", red=True, bold=True)
    terminalreporter.write_line(
        f"{len(_scanner.leaks)} of {_scanner.seen} log records carried a secret the suite "
        "configured; the run fails:"
    )
    for line in _scanner.leaks[:50]:
        terminalreporter.write_line(f"  {line}")


@pytest.fixture
def secret_scanner() -> SecretScanHandler:
    """The session's scanner: `find(text)`, and the records it has seen so far."""
    return _scanner


@pytest.fixture
def suite_secrets() -> dict[str, str]:
    """The secrets the suite configures (Slack bot token and signing secret, DashScope key)."""
    return dict(SUITE_SECRETS)


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
def postgres_admin_url() -> str:
    """The PostgreSQL server the team setup is tested on, checked once per session.

    When it is absent every test that needs it fails loudly (never skips), so CI cannot pass
    without it.
    """
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__}). "
            "Team-mode tests need it: start PostgreSQL or set MODELDECK_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards), so no test sees
    another's requests or deployments."""
    import psycopg

    name = f"modeldeck_t_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
