"""Fixtures for the browser tests: a modeldeck stack, JupyterLab on loopback, Debian's chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from tests.browser.lab import CHROMIUM, Lab, LabFailed, open_browser, run_lab

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "docs" / "notebook.ipynb"
ARTIFACTS = REPO / "test-artifacts"


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
    with open_browser(chromium) as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        yield tab


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with Stack() as running:
        yield running


class TeamLab(Lab):
    """A Lab whose kernels talk to the stack's server, with API tokens for its users."""

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


@pytest.fixture(scope="module")
def lab(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamLab]:
    """JupyterLab on a free loopback port, serving a copy of the demo notebook.

    Its kernels inherit the stack's environment, so the notebook's panel talks to the stack's
    server. Every Jupyter directory is a fresh temp dir: no user settings or workspaces leak in.
    """
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    assert stack.deck is not None
    tokens = {user: create_token(stack.deck.store, user)[1] for user in ("alice",)}
    try:
        with run_lab(base, root, {**os.environ, **stack.env}) as started:
            team = TeamLab(
                started.url, started.token, root, started.log, stack.server_url, tokens
            )
            team.start_session(NOTEBOOK.name)
            yield team
    except LabFailed as exc:
        pytest.fail(str(exc), pytrace=False)
