"""Fixtures for metering: a sandbox over real HTTP on 127.0.0.1 and a real SQLite store.

The sandbox's clock is frozen in practice (speed 1e-6 from a minute boundary), so every call of
a test falls in one PTU admission minute and bursts overflow deterministically.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modeldeck.provider import ModelStudioClient
from modeldeck.sandbox import create_app
from modeldeck.sandbox.config import SandboxConfig
from modeldeck.serving import ServerThread
from modeldeck.store import Store
from tests.metering.meterhelpers import API_KEY, SANDBOX_START, Deck


@pytest.fixture
def deck(tmp_path: Path) -> Iterator[Deck]:
    config = SandboxConfig(
        deploy_delay_seconds=0,
        clock_speed=1e-6,
        start_time=SANDBOX_START,
        api_keys=[API_KEY],
    )
    app = create_app(config)
    store = Store(f"sqlite:///{tmp_path / 'modeldeck.db'}")
    with ServerThread(app) as server:
        provider = ModelStudioClient(f"{server.url}/api/v1", API_KEY, max_retries=0)
        try:
            yield Deck(server.url, app.state.sandbox, provider, store, tmp_path / "journal")
        finally:
            provider.close()
            store.dispose()
