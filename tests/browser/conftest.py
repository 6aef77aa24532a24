"""Fixtures for the browser tests: a modeldeck stack, JupyterLab on loopback, Debian's chromium."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from modeldeck.serving import free_port
from modeldeck.testing import Stack
from modeldeck.tokens import create_token

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "docs" / "notebook.ipynb"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("MODELDECK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Lab's news and update checks would pop a toast over the notebook (and try the internet).
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; missing it fails in CI (never a silent skip) and skips locally."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (
        f"Browser tests need Debian's chromium at {CHROMIUM} "
        "(`apt-get install -y chromium`; scripts/test installs it; never `playwright install`)."
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def artifacts() -> Path:
    """`test-artifacts/` in the repository root (gitignored): screenshots for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(chromium: str) -> Iterator[Page]:
    """A fresh headless chromium page (own profile), 30 s default timeout for waits."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            tab = context.new_page()
            tab.set_default_timeout(30_000)
            yield tab
        finally:
            browser.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack() as running:
        yield running


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path
    server_url: str
    tokens: dict[str, str]

    def ask_for_deploy(self, user: str, words: str) -> str:
        """A deploy request by `user`, made over the stack's REST API; its id."""
        from modeldeck.grammar import DeployCommand, parse

        command = parse(words)
        assert isinstance(command, DeployCommand)
        actor = {"principal": user, "surface": "cli", "roles": ["deployer"]}
        resp = httpx.post(
            f"{self.server_url}/api/requests/deploy",
            json={"spec": command.spec.model_dump(mode="json"), "actor": actor, "reason": None},
            headers={"Authorization": f"Bearer {self.tokens[user]}"},  # who acts: the token
            timeout=60,
        )
        resp.raise_for_status()
        return str(resp.json()["id"])

    def api(self, method: str, path: str, body: object = None) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"token {self.token}"},
            timeout=60,
        )


def _wait_ready(lab: Lab, proc: subprocess.Popen[bytes], limit: float = 60.0) -> None:
    """Poll the server's status API until it answers (start-up takes 6-8 s here)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"jupyter lab exited with {proc.returncode}:\n{lab.log.read_text()[-3000:]}",
                pytrace=False,
            )
        try:
            if lab.api("GET", "/api/status").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"jupyter lab did not start in {limit} s:\n{lab.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on a free loopback port, serving a copy of the demo notebook.

    Its kernels inherit the stack's environment, so the notebook's panel talks to the stack's
    server. Every Jupyter directory is a fresh temp dir: no user settings or workspaces leak in.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    dirs = {
        name: base / name.lower()
        for name in (
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_RUNTIME_DIR",
            "JUPYTERLAB_SETTINGS_DIR",
            "JUPYTERLAB_WORKSPACES_DIR",
        )
    }
    for path in dirs.values():
        path.mkdir()
    notification = (
        dirs["JUPYTERLAB_SETTINGS_DIR"]
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps(NOTIFICATION_SETTINGS))
    env = {**os.environ, **stack.env, **{k: str(v) for k, v in dirs.items()}}
    port = free_port()
    token = secrets.token_hex(16)
    assert stack.deck is not None
    tokens = {user: create_token(stack.deck.store, user)[1] for user in ("alice",)}
    lab = Lab(
        f"http://127.0.0.1:{port}", token, root, base / "jupyterlab.log", stack.server_url, tokens
    )
    with lab.log.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
            ],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(lab, proc)
        # Start the notebook's kernel now, while the browser launches: Lab reuses the session.
        lab.api(
            "POST",
            "/api/sessions",
            {
                "path": NOTEBOOK.name,
                "name": NOTEBOOK.name,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        ).raise_for_status()
        yield lab
    finally:
        try:  # kernels outlive the browser: end their sessions first
            for session in lab.api("GET", "/api/sessions").json():
                lab.api("DELETE", f"/api/sessions/{session['id']}")
        except (httpx.HTTPError, ValueError):
            pass
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
