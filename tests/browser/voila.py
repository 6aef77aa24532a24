"""Voila on loopback for the browser tests: one notebook served as a page on a free port.

Every Jupyter directory is fresh (no user config leaks in); the kernel inherits `env`, so the
notebook's `Deck()` sees the test's modeldeck stack. Readiness is the port answering: a GET of
the page would start a kernel and run the notebook, which the browser does itself.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from modeldeck.serving import free_port


class VoilaFailed(RuntimeError):
    """Voila exited or did not listen in time (its log's tail is in the message)."""


@dataclass
class Voila:
    url: str
    token: str
    log: Path
    template: str

    @property
    def page_url(self) -> str:
        return f"{self.url}/?token={self.token}"


def _wait_listening(voila: Voila, port: int, proc: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise VoilaFailed(
                f"voila exited with {proc.returncode}:\n{voila.log.read_text()[-3000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise VoilaFailed(f"voila did not listen in {limit} s:\n{voila.log.read_text()[-3000:]}")


@contextmanager
def run_voila(
    base: Path,
    notebook: Path,
    env: Mapping[str, str],
    *,
    template: str = "lab",
    limit: float = 60.0,
) -> Iterator[Voila]:
    """`voila --template=<template> <notebook>` on 127.0.0.1 with a token and fresh Jupyter
    dirs; stopped on exit."""
    dirs = {name: base / name.lower() for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    port = free_port()
    voila = Voila(f"http://127.0.0.1:{port}", secrets.token_hex(16), base / "voila.log", template)
    args = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={voila.token}",
        f"--template={template}",
        "--show_tracebacks=True",
        str(notebook),
    ]
    full_env = {**env, **{k: str(v) for k, v in dirs.items()}}
    with voila.log.open("wb") as log:
        proc = subprocess.Popen(
            args, env=full_env, cwd=notebook.parent, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_listening(voila, port, proc, limit)
        yield voila
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
