"""Bad, oversized and unsigned requests, and a failing store: a 4xx/503 with a JSON body, never a
500 or a traceback; the CLI's faults are one line and exit 2. The OpenAPI schema lists them all."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import event, text

from modeldeck.settings import Settings
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import BOT_TOKEN, CHANNEL, SIGNING_SECRET

PRINCIPALS = [{"name": "alice", "roles": ["deployer"]}, {"name": "bob", "roles": ["approver"]}]


def error_of(resp: httpx.Response) -> dict[str, str]:
    """The JSON error body every refusal carries."""
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    error = resp.json()["error"]
    assert isinstance(error, dict) and error["message"]
    return error


def deploy_body(reason: str = "test") -> dict[str, object]:
    return {
        "spec": {"model": "qwen3-32b", "plan": "mu", "units": 1},
        "actor": {"principal": "alice", "surface": "api", "roles": ["deployer"]},
        "reason": reason,
    }


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# --- body size ------------------------------------------------------------------------------


def test_the_default_body_limit_is_one_megabyte() -> None:
    assert Settings().server.max_body_bytes == 1_000_000


def test_a_body_over_the_limit_is_413_with_the_limit_in_the_text() -> None:
    with Stack(server={"max_body_bytes": 4000}) as stack:
        url = f"{stack.server_url}/api/requests/deploy"
        small = httpx.post(url, json=deploy_body())
        assert small.status_code == 200, small.text
        big = httpx.post(url, json=deploy_body("x" * 10_000))
        assert big.status_code == 413
        assert "4000 bytes" in error_of(big)["message"]
        assert "max_body_bytes" in str(error_of(big)["hint"])

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"text": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        chunked = httpx.post(
            f"{stack.server_url}/api/run",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert chunked.status_code == 413 and "4000 bytes" in error_of(chunked)["message"]
        listed = httpx.get(f"{stack.server_url}/api/requests").json()
        assert len(listed) == 1  # nothing oversized was stored


# --- Slack ----------------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "", "-5", "0x10", "12 3"])
def test_an_unsigned_slack_request_with_a_non_numeric_timestamp_is_401(
    timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        FakeSlack(bot_token=BOT_TOKEN) as fake,
        Stack(
            slack={
                "bot_token": BOT_TOKEN,
                "signing_secret": SIGNING_SECRET,
                "api_url": fake.api_url,
                "channel": CHANNEL,
            }
        ) as stack,
    ):
        resp = httpx.post(
            f"{stack.server_url}/slack/events",
            content="command=%2Fdeck&text=help",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
    assert resp.status_code == 401, resp.text
    assert not no_tracebacks(caplog)


# --- the store failing ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_a_dropped_postgresql_store_answers_503_and_nothing_is_lost(
    postgres_url: str, postgres_admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Stack(database_url=postgres_url) as stack:
        first = httpx.post(f"{stack.server_url}/api/requests/deploy", json=deploy_body())
        assert first.status_code == 200
        name = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            # Every connection of the server is killed, and new ones are refused.
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        caplog.clear()
        for method, path, body in [
            ("GET", "/api/requests", None),
            ("POST", "/api/requests/deploy", deploy_body("during the outage")),
            ("GET", "/api/deployments", None),
        ]:
            resp = httpx.request(method, f"{stack.server_url}{path}", json=body)
            assert resp.status_code == 503, (path, resp.text)
            error = error_of(resp)
            assert error["type"] == "StoreUnavailable"
            assert "the store is unavailable, nothing was lost, try again" in (
                error["message"].lower()
            )
        assert not [r for r in caplog.records if r.exc_info]  # no traceback in the log
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        after = httpx.get(f"{stack.server_url}/api/requests")
        assert after.status_code == 200
        assert [r["id"] for r in after.json()] == [first.json()["id"]]  # nothing lost or half-kept


def test_a_full_sqlite_disk_answers_503_and_keeps_what_was_saved() -> None:
    """SQLite's own SQLITE_FULL (max_page_count reached), as a full disk gives it."""
    with Stack() as stack:
        assert stack.deck is not None
        url = f"{stack.server_url}/api/requests/deploy"
        first = httpx.post(url, json=deploy_body())
        assert first.status_code == 200
        engine = stack.deck.store.engine
        with engine.connect() as conn:
            pages = conn.execute(text("PRAGMA page_count")).scalar_one()

        def cap(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

        event.listen(engine, "connect", cap)
        engine.dispose()
        try:
            full = httpx.post(url, json=deploy_body("z" * 200_000))
            assert full.status_code == 503, full.text
            assert "nothing was lost" in error_of(full)["message"]
            assert "full" in error_of(full)["message"]
        finally:
            event.remove(engine, "connect", cap)
            engine.dispose()
        listed = httpx.get(f"{stack.server_url}/api/requests").json()
        assert [r["id"] for r in listed] == [first.json()["id"]]


@pytest.mark.slow
def test_the_cli_says_one_line_and_exits_2_on_a_bad_toml_or_an_unreachable_store(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "conf" / "modeldeck.toml"
    bad.parent.mkdir()
    bad.write_text('[provider]\nregion = "beijing\n')
    from modeldeck.serving import free_port

    cases = {
        "toml": {"MODELDECK_CONFIG": str(bad)},
        "store": {"MODELDECK_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/x"},
    }
    for name, env in cases.items():
        done = subprocess.run(
            [sys.executable, "-m", "modeldeck", "list"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert "Unexpected error" not in done.stderr and "Traceback" not in done.stderr
        assert len(lines) == 1, (name, done.stderr)
        expected = "not valid TOML" if name == "toml" else "The store is unavailable"
        assert expected in lines[0] and (name != "toml" or "line 2" in lines[0])


# --- auth of /metrics and the documented errors ---------------------------------------------


def test_metrics_needs_a_token_like_the_api_in_team_mode() -> None:
    with Stack(principals=PRINCIPALS) as stack:
        assert stack.deck is not None
        _, token = create_token(stack.deck.store, "alice")
        refused = httpx.get(f"{stack.server_url}/metrics")
        assert refused.status_code == 401 and "API token" in error_of(refused)["message"]
        wrong = httpx.get(f"{stack.server_url}/metrics", headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401
        ok = httpx.get(f"{stack.server_url}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "modeldeck_requests_pending" in ok.text


def test_the_openapi_schema_documents_every_error_a_route_returns() -> None:
    with Stack(principals=PRINCIPALS) as stack:
        schema = httpx.get(f"{stack.server_url}/openapi.json").json()
    assert "ErrorBody" in schema["components"]["schemas"]
    checked = 0
    for path, operations in schema["paths"].items():
        if not (path.startswith("/api/") or path == "/metrics"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"200", "400", "401", "403", "503"} <= codes, (method, path, codes)
            if method in ("post", "put"):
                assert {"413", "422"} <= codes, (method, path, codes)
            if "{" in path:
                assert "404" in codes, (method, path, codes)
            if path.startswith("/api/requests/{request_id}/"):
                assert "409" in codes, (method, path, codes)
            error = operation["responses"]["503"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}
            checked += 1
    assert checked >= 15
