"""kill -9 of an executor between its claim and its outcome; `modeldeck reconcile` finishes it.

The window is real: the sandbox accepts the create and then holds its answer (a latency fault
after the handler, once), so the server process has claimed the request and Model Studio has
made the deployment, but nothing is recorded yet. The process is killed right there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.config import FaultRule
from modeldeck.sandbox.testing import running_sandbox
from modeldeck.settings import Settings
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow, RequestRow
from modeldeck.tokens import create_token
from tests.team.teamhelpers import ServerProcess, base_env, toml_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PRINCIPALS = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "jupyter_user": "bob", "roles": ["approver"]},
]
# The create is carried out, then its answer is held back for a minute (only the first one).
HELD_CREATE = FaultRule(
    kind="latency",
    method="POST",
    path="/api/v1/deployments",
    latency_seconds=60,
    after_handler=True,
    times=1,
)


def wait_until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


def test_an_executor_killed_after_its_claim_is_finished_by_the_reconciler(
    team_db: str, tmp_path: Path, suite_secrets: dict[str, str]
) -> None:
    key = suite_secrets["dashscope_api_key"]
    config = tmp_path / "modeldeck.toml"
    config.write_text(toml_config(PRINCIPALS))
    store = Store(team_db)
    tokens = {name: create_token(store, name)[1] for name in ("alice", "bob")}

    with running_sandbox(api_keys=[key], faults=[HELD_CREATE]) as sandbox:
        env = {
            **base_env(tmp_path),
            "MODELDECK_CONFIG": str(config),
            "MODELDECK_DATABASE_URL": team_db,
            "MODELDECK_DATA_DIR": str(tmp_path / "data"),
            "MODELDECK_SANDBOX__HOST": sandbox.server.host,
            "MODELDECK_SANDBOX__PORT": str(sandbox.server.port),
            "DASHSCOPE_API_KEY": key,
            "MODELDECK_LOG_LEVEL": "DEBUG",
        }
        executor = ServerProcess("executor", env, tmp_path).start().wait_ready()
        try:
            made = httpx.post(
                f"{executor.url}/api/requests/deploy",
                json={
                    "spec": {"model": "qwen3-32b", "plan": "mu", "units": 1},
                    "actor": {"principal": "alice", "surface": "jupyter"},
                },
                headers={"Authorization": f"Bearer {tokens['alice']}"},
            )
            assert made.status_code == 200, made.text
            rid = made.json()["id"]

            answer: list[Any] = []

            def bob_approves() -> None:
                try:
                    answer.append(
                        httpx.post(
                            f"{executor.url}/api/requests/{rid}/approve",
                            json={"actor": {"principal": "bob", "surface": "api"}},
                            headers={"Authorization": f"Bearer {tokens['bob']}"},
                            timeout=120,
                        )
                    )
                except httpx.HTTPError as exc:
                    answer.append(exc)

            approver = threading.Thread(target=bob_approves)
            approver.start()

            def claimed_and_created() -> bool:
                with store.session() as session:
                    row = session.get(RequestRow, rid, populate_existing=True)
                    status = row.status if row else None
                return status == "executing" and sandbox.sandbox.created_count() == 1

            wait_until(claimed_and_created, "the claim and the create at the sandbox")
            executor.kill9()
            approver.join(timeout=60)
        finally:
            executor.stop()

        # bob's click got no answer; nothing was recorded, but Model Studio has the deployment
        assert len(answer) == 1 and isinstance(answer[0], httpx.HTTPError), answer
        with store.session() as session:
            row = session.get(RequestRow, rid)
            assert row is not None and row.status == "executing"
            assert row.claimed_by is not None and row.claimed_by.endswith(f":{executor.pid}")
            assert session.scalars(select(DeploymentRow)).all() == []

        done = subprocess.run(
            [sys.executable, "-m", "modeldeck", "reconcile", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["recovered"] == [rid] and report["imported"] == []

        listing = httpx.get(
            f"{sandbox.base_url}/deployments", headers={"Authorization": f"Bearer {key}"}
        ).json()["output"]
        assert listing["total"] == 1 and sandbox.sandbox.created_count() == 1
        with store.session() as session:
            deployments = session.scalars(select(DeploymentRow)).all()
            request = session.get(RequestRow, rid)
            assert request is not None and request.status == "executed"
            assert len(deployments) == 1
            assert deployments[0].request_id == rid and not deployments[0].imported
            assert request.deployment_id == deployments[0].id
            assert deployments[0].deployed_model == listing["deployments"][0]["deployed_model"]
        audit = read_audit(store, subject=rid)
        assert [(r["actor"], r["action"]) for r in audit] == [
            ("alice", "request"),
            ("bob", "approve"),
            ("reconciler", "recover"),
            (audit[-1]["actor"], "executed"),
        ]
        assert audit[2]["detail"]["previous_claim"].endswith(f":{executor.pid}")
        assert not [r for r in read_audit(store) if r["action"] == "import"]

        # restart the server: it tells the truth about the request and runs nothing again
        again = ServerProcess("restarted", env, tmp_path).start().wait_ready()
        try:
            late = httpx.post(
                f"{again.url}/api/requests/{rid}/approve",
                json={"actor": {"principal": "bob", "surface": "api"}},
                headers={"Authorization": f"Bearer {tokens['bob']}"},
            )
            assert late.status_code == 200, late.text
            told = late.json()["message"]
            assert told == f"{rid} was already executed (by bob); nothing changed."
            deck = Deck(
                Settings(
                    database_url=team_db,
                    data_dir=tmp_path / "data",
                    principals=PRINCIPALS,
                    provider={"api_key": key},
                    sandbox={"host": sandbox.server.host, "port": sandbox.server.port},
                )
            )
            try:
                second = Reconciler(deck).run_once()
            finally:
                deck.close()
            assert second.recovered == [] and second.imported == []
            assert sandbox.sandbox.created_count() == 1
        finally:
            again.stop()
        for server in (executor, again):
            log = server.log()
            assert not [s for s in [*suite_secrets.values(), *tokens.values()] if s in log]
    store.dispose()
