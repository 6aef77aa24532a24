"""`modeldeck up` as a user runs it: one process, every part listening, a clean stop on Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from modeldeck.serving import free_port


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"modeldeck up exited early: {proc.communicate()}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never became healthy")


def test_up_runs_the_whole_stack_and_deploys(tmp_path: Path) -> None:
    port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "MODELDECK_SANDBOX__PORT": str(sandbox_port),
        "MODELDECK_SANDBOX__DEPLOY_DELAY_SECONDS": "0.2",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modeldeck",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
        sandbox = httpx.get(
            f"http://127.0.0.1:{sandbox_port}/api/v1/deployments",
            headers={"Authorization": "Bearer sk-sandbox"},
        )
        assert sandbox.status_code == 200 and sandbox.json()["output"]["total"] == 0
        # the CLI in another process talks to the same stack through the same data dir
        cli_env = {**env, "MODELDECK_DATA_DIR": str(tmp_path / "data")}
        deploy = subprocess.run(
            [sys.executable, "-m", "modeldeck", "deploy", "qwen3-32b", "mu", "units=1", "--json"],
            env={**cli_env, "MODELDECK_USER": "alice"},
            capture_output=True,
            text=True,
        )
        assert deploy.returncode == 0, deploy.stderr
        request_id = json.loads(deploy.stdout)["id"]
        approve = subprocess.run(
            [sys.executable, "-m", "modeldeck", "approve", request_id],
            env={**cli_env, "MODELDECK_USER": "bob"},
            capture_output=True,
            text=True,
        )
        assert approve.returncode == 0, approve.stderr
        assert "executed" in approve.stdout
        listing = httpx.get(
            f"http://127.0.0.1:{sandbox_port}/api/v1/deployments",
            headers={"Authorization": "Bearer sk-sandbox"},
        ).json()
        assert listing["output"]["total"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"server:    http://127.0.0.1:{port}" in out
    assert f"sandbox:   http://127.0.0.1:{sandbox_port}/api/v1" in out
    assert "slack:     off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in out
    assert "Traceback" not in err


def test_cli_user_errors_exit_2_with_a_sentence(tmp_path: Path) -> None:
    env = {**os.environ, "MODELDECK_DATA_DIR": str(tmp_path)}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "modeldeck",
            "estimate",
            "qwen3-max-2025-09-23",
            "ptu",
            "in=15000",
            "out=2000",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "10,000" in bad.stderr and "20,000" in bad.stderr  # nearest valid values
    unknown = subprocess.run(
        [sys.executable, "-m", "modeldeck", "estimate", "qwen3-max", "mu", "units=1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "models" in unknown.stderr


def test_unlisted_price_error_keeps_the_override_recipe(tmp_path: Path) -> None:
    """Worked example 8 through the CLI: exit 2, never $0, and the TOML to paste survives."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "modeldeck",
            "estimate",
            "qwen-plus-2025-12-01",
            "ptu",
            "mode=thinking",
            "in=10000",
            "out=1000",
            "--json",
        ],
        env={**os.environ, "MODELDECK_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and out.stdout == ""
    assert "not listed" in out.stderr and "[[catalog.prices]]" in out.stderr
    assert "$0.00" not in out.stderr


def test_human_estimate_shows_table_and_every_detail(tmp_path: Path) -> None:
    """The rich table of lines, then everything after the total (timeline, comparison, notes)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "modeldeck",
            "estimate",
            "qwen3-max-2025-09-23",
            "ptu",
            "in=10000",
            "out=1000",
            "billing=upfront",
            "days=1",
            "start=2026-03-01T22:30",
            "compare",
        ],
        env={**os.environ, "MODELDECK_DATA_DIR": str(tmp_path), "COLUMNS": "160"},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    for needle in (
        "$18.72",
        "Order timeline (Beijing time):",
        "2026-03-02 23:59:59",
        "2026-03-03 15:59:59",
        "Comparison:",
        "<- cheaper",
        "Note: ",
    ):
        assert needle in out.stdout, needle
