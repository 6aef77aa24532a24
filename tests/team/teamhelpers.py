"""Team mode for tests: `modeldeck server` replicas as real processes on one PostgreSQL.

`ServerProcess` starts `python -m modeldeck server --port P` with a given environment, waits
until `/healthz` answers, and kills it (gently, or with SIGKILL for crash tests). Its output goes
to a log file that the tests read back (startup failures, and the secret scan).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from modeldeck.serving import free_port

START_TIMEOUT = 60.0  # generous: two replicas start at once on a busy 2-core machine


def base_env(tmp: Path) -> dict[str, str]:
    """A clean environment for a child process: nothing from the developer's MODELDECK_*."""
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HOME"] = str(tmp)
    return env


class ServerProcess:
    """One `modeldeck server` replica."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not running"
        return self.proc.pid

    def start(self) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "modeldeck", "server", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self) -> ServerProcess:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} while starting:\n{self.log()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never answered /healthz:\n{self.log()}")
            time.sleep(0.1)

    def kill9(self) -> None:
        """SIGKILL, and reap it (a zombie would still look alive to the reconciler)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_all(servers: list[ServerProcess]) -> None:
    """Start replicas together (their imports overlap) and wait for every one."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready()


def toml_config(
    principals: list[dict[str, Any]],
    workspace: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
) -> str:
    """A modeldeck.toml with these principals, workspace and policy (plain values only)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines: list[str] = []
    for section, values in (("workspace", workspace), ("policy", policy)):
        if values:
            lines.append(f"[{section}]")
            lines += [f"{k} = {value(v)}" for k, v in values.items()]
            lines.append("")
    for principal in principals:
        lines.append("[[principals]]")
        lines += [f"{k} = {value(v)}" for k, v in principal.items()]
        lines.append("")
    return "\n".join(lines)
