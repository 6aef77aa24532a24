"""Workflow fixtures: a sandbox and decks on a fresh SQLite store, per test.

The secrets tests reuse the Slack suite's fake Slack and signed wire helpers (tests/slack).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeldeck.deck import Deck
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from tests.workflow.wfhelpers import PRINCIPALS, MakeDeck


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


@pytest.fixture
def make_deck(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[MakeDeck]:
    """Build decks on a fresh SQLite store pointed at the test's sandbox (closed afterwards)."""
    decks: list[Deck] = []

    def make(**settings: Any) -> Deck:
        settings.setdefault("principals", PRINCIPALS)
        settings.setdefault("sandbox", {"host": sandbox.server.host, "port": sandbox.server.port})
        deck = Deck(Settings(data_dir=tmp_path / f"deck{len(decks)}", **settings))
        decks.append(deck)
        return deck

    yield make
    for deck in decks:
        deck.close()
