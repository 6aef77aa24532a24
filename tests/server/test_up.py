"""`modeldeck up` as a user runs it: one process, every part listening, a clean stop on Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from modeldeck.serving import free_port

pytestmark = pytest.mark.slow  # every test here starts `modeldeck up` processes (see README)


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


# --- binding before saying so; taken ports; open mode off loopback --------------------------


def _up(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "modeldeck", "up", "--data-dir", str(tmp_path / "data"), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _held_port() -> socket.socket:
    """A loopback port something else is listening on."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def _one_line_failure(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    assert "modeldeck is up" not in out  # it never said so
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_up_says_it_is_up_only_once_every_part_accepts(tmp_path: Path) -> None:
    port, sandbox_port = free_port(), free_port()
    proc = _up(tmp_path, "--port", str(port), env={"MODELDECK_SANDBOX__PORT": str(sandbox_port)})
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the banner (or the end of the output)
            if line.startswith("modeldeck is up"):
                break
        else:
            raise AssertionError(f"no banner: {proc.communicate(timeout=20)}")
        # The moment it says so, both answer (one request each, no retry).
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        sandbox = httpx.get(
            f"http://127.0.0.1:{sandbox_port}/api/v1/deployments",
            headers={"Authorization": "Bearer sk-sandbox"},
        )
        assert sandbox.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def test_a_taken_server_port_is_one_line_naming_it_and_its_setting(tmp_path: Path) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        line = _one_line_failure(
            _up(tmp_path, "--port", str(port), env={"MODELDECK_SANDBOX__PORT": str(free_port())})
        )
    assert f"127.0.0.1:{port}" in line and "already in use" in line
    assert "--port" in line and "MODELDECK_SERVER__PORT" in line


def test_a_taken_sandbox_port_that_was_chosen_is_one_line_naming_its_setting(
    tmp_path: Path,
) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        line = _one_line_failure(
            _up(
                tmp_path,
                "--port",
                str(free_port()),
                env={"MODELDECK_SANDBOX__PORT": str(port)},
            )
        )
    assert f"sandbox cannot listen on 127.0.0.1:{port}" in line
    assert "MODELDECK_SANDBOX__PORT" in line


def test_a_taken_default_sandbox_port_moves_to_a_free_one() -> None:
    from modeldeck.settings import SandboxSettings, Settings
    from modeldeck.up import _bind_sandbox

    with _held_port() as held:
        taken = held.getsockname()[1]
        settings = Settings()
        # As if `taken` were the default (nobody chose it): the real default is a fixed port.
        settings.sandbox = SandboxSettings.model_construct(_fields_set=set(), port=taken)
        assert "port" not in settings.sandbox.model_fields_set
        sock = _bind_sandbox(settings)
        try:
            assert settings.sandbox.port == sock.getsockname()[1] != taken
        finally:
            sock.close()


def test_open_mode_refuses_a_non_loopback_host_unless_insecure(tmp_path: Path) -> None:
    port = free_port()
    line = _one_line_failure(_up(tmp_path, "--host", "0.0.0.0", "--port", str(port)))
    assert "open mode" in line and "--insecure-open-mode" in line

    proc = _up(
        tmp_path,
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--insecure-open-mode",
        env={"MODELDECK_SANDBOX__PORT": str(free_port())},
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "WARNING: insecure open mode" in err and "0.0.0.0" in err


def test_the_standalone_sandbox_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with _held_port() as held:
        port = held.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "modeldeck", "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]


def test_up_with_an_unreachable_store_is_one_line_and_never_says_it_is_up(
    tmp_path: Path,
) -> None:
    line = _one_line_failure(
        _up(
            tmp_path,
            "--port",
            str(free_port()),
            env={
                "MODELDECK_SANDBOX__PORT": str(free_port()),
                "MODELDECK_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/x",
            },
        )
    )
    assert "The store is unavailable, nothing was lost, try again" in line
