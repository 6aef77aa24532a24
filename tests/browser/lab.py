"""JupyterLab on loopback and Debian's chromium, for the browser tests and the panel benchmark.

`run_lab` starts `jupyter lab` on a free port over a directory of notebooks, with every Jupyter
directory fresh (no user settings leak in) and Lab's news toast off; `open_browser` launches the
installed chromium through Playwright (never `playwright install`: nothing is downloaded).
`cell_to_panel` times one run of a notebook's cells until the panel is visible.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from modeldeck.serving import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
IDLE = r"\(ipykernel\) \| Idle"


class LabFailed(RuntimeError):
    """JupyterLab exited or did not answer in time (its log's tail is in the message)."""


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path
    server_url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, body: object = None) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"token {self.token}"},
            timeout=60,
        )

    def start_session(self, notebook: str) -> None:
        """Start the notebook's kernel now (while the browser launches): Lab reuses it."""
        self.api(
            "POST",
            "/api/sessions",
            {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}},
        ).raise_for_status()

    def end_sessions(self) -> None:
        """Kernels outlive the browser: end every session."""
        try:
            for session in self.api("GET", "/api/sessions").json():
                self.api("DELETE", f"/api/sessions/{session['id']}")
        except (httpx.HTTPError, ValueError):
            pass


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook of code cells with a kernelspec (no "Select Kernel" dialog)."""
    doc = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for source in cells
        ],
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(doc, indent=1))
    return path


def _wait_ready(lab: Lab, proc: subprocess.Popen[bytes], limit: float = 60.0) -> None:
    """Poll the server's status API until it answers (start-up takes 6-8 s here)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = lab.log.read_text()[-3000:]
            raise LabFailed(f"jupyter lab exited with {proc.returncode}:\n{tail}")
        try:
            if lab.api("GET", "/api/status").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise LabFailed(f"jupyter lab did not start in {limit} s:\n{lab.log.read_text()[-3000:]}")


@contextmanager
def run_lab(
    base: Path, root: Path, env: Mapping[str, str], *, expose_app: bool = False
) -> Iterator[Lab]:
    """JupyterLab serving `root` with `env` (its kernels inherit it); stopped on exit."""
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
        path.mkdir(exist_ok=True)
    notification = (
        dirs["JUPYTERLAB_SETTINGS_DIR"]
        / "@jupyterlab"
        / "apputils-extension"
        / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps(NOTIFICATION_SETTINGS))
    full_env = {**env, **{k: str(v) for k, v in dirs.items()}}
    port = free_port()
    lab = Lab(f"http://127.0.0.1:{port}", secrets.token_hex(16), root, base / "jupyterlab.log")
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}",
        f"--ServerApp.root_dir={root}",
    ]
    if expose_app:  # window.jupyterapp: the tests switch the theme through Lab's own command
        args.append("--LabApp.expose_app_in_browser=True")
    with lab.log.open("wb") as log:
        proc = subprocess.Popen(args, env=full_env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(lab, proc)
        yield lab
    finally:
        lab.end_sessions()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def open_browser(chromium: str = CHROMIUM) -> Iterator[Browser]:
    """Debian's chromium, headless, own profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_notebook(page: Page, lab: Lab, notebook: str) -> None:
    """Open a notebook and wait until its kernel is idle (the status bar names the kernel)."""
    import re

    from playwright.sync_api import expect

    page.goto(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}")
    expect(page.get_by_text(re.compile(IDLE))).to_be_visible(timeout=60_000)


def run_all(page: Page) -> None:
    """Run > Run All Cells, through the menu as a person would."""
    import re

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()


def cell_to_panel(
    page: Page, timeout_ms: float = 60_000, selector: str = ".modeldeck-panel"
) -> float:
    """Seconds from Run All to a new `selector` visible (an older one is marked first, so a
    re-run waits for the element it draws, not the one it replaces)."""
    page.evaluate(
        "sel => document.querySelectorAll(sel).forEach(e => e.dataset.old = '1')", selector
    )
    start = time.perf_counter()
    run_all(page)
    page.locator(f"{selector}:not([data-old])").first.wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - start


def restart_kernel(page: Page, lab: Lab) -> None:
    """Restart the notebook's kernel over the REST API and wait for Lab to show it idle."""
    import re

    from playwright.sync_api import expect

    for session in lab.api("GET", "/api/sessions").json():
        lab.api("POST", f"/api/kernels/{session['kernel']['id']}/restart").raise_for_status()
    expect(page.get_by_text(re.compile(IDLE))).to_be_visible(timeout=60_000)


def set_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab's theme ("JupyterLab Light" / "JupyterLab Dark") with its command."""
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        "theme => document.body.dataset.jpThemeName === theme", arg=theme, timeout=30_000
    )
