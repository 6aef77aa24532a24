"""`run_sandbox` in its own process: it serves, and a kill -9 loses no accepted deployment."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from modeldeck.provider import ModelStudioClient
from modeldeck.serving import free_port
from tests.sandbox.sbhelpers import MU_BODY

SCRIPT = """
import sys
from pathlib import Path
from modeldeck.sandbox import SandboxConfig, run_sandbox
config = SandboxConfig(db_path=Path(sys.argv[1]), deploy_delay_seconds=0.2)
run_sandbox(config, "127.0.0.1", int(sys.argv[2]), log_level="warning")
"""


@contextmanager
def sandbox_process(db: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db), str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "the sandbox process exited during start-up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_sandbox/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the sandbox process did not start"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@pytest.mark.slow
def test_kill_9_then_restart_keeps_deployments(tmp_path: Path) -> None:
    db, port = tmp_path / "sandbox.db", free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    with sandbox_process(db, port) as proc:
        with ModelStudioClient(base, "sk-sandbox") as client:
            created = client.create_deployment(MU_BODY, idempotency_key="before-crash")
        proc.kill()  # SIGKILL: no shutdown hook runs
        proc.wait(10)
    with sandbox_process(db, port), ModelStudioClient(base, "sk-sandbox") as client:
        again = client.get_deployment(created.deployed_model)
        assert again.gmt_create == created.gmt_create
        replay = client.create_deployment(MU_BODY, idempotency_key="before-crash")
        assert replay.deployed_model == created.deployed_model
        assert client.list_deployments().total == 1
