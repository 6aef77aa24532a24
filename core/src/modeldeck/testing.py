"""A whole modeldeck stack on free loopback ports, for tests, demos and notebooks.

`Stack` starts the sandbox, builds settings in a temp data dir pointing at it (the embedded-default
path: no provider base URL), builds the deck and serves it; `env` points a child process
(a kernel, a CLI run) at the same stack.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from modeldeck.deck import Deck
from modeldeck.serving import ServerThread
from modeldeck.settings import Settings


class Stack:
    """Sandbox + store + deck + server, started on enter and stopped on exit."""

    def __init__(
        self,
        *,
        data_dir: Path | None = None,
        database_url: str | None = None,
        deploy_delay_seconds: float = 0.3,
        reconcile_interval: float = 0,
        sandbox_options: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="modeldeck-")
        self.data_dir = data_dir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.database_url = database_url
        self.deploy_delay_seconds = deploy_delay_seconds
        self.reconcile_interval = reconcile_interval
        self.sandbox_options = sandbox_options or {}
        self.overrides = settings
        self.sandbox: ServerThread | None = None
        self.server: ServerThread | None = None
        self.deck: Deck | None = None
        self.settings: Settings | None = None

    def start(self) -> Stack:
        from modeldeck.sandbox import SandboxConfig
        from modeldeck.sandbox import create_app as sandbox_app
        from modeldeck.server import create_app

        config = SandboxConfig(
            db_path=self.data_dir / "sandbox.db",
            deploy_delay_seconds=self.deploy_delay_seconds,
            **self.sandbox_options,
        )
        self.sandbox = ServerThread(sandbox_app(config)).start()
        overrides = dict(self.overrides)
        sandbox = dict(overrides.pop("sandbox", {}))
        sandbox.update(host=self.sandbox.host, port=self.sandbox.port)
        self.settings = Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            sandbox=sandbox,
            **overrides,
        )
        self.deck = Deck(self.settings)
        app = create_app(self.deck, self.settings, reconcile_interval=self.reconcile_interval)
        self.server = ServerThread(app).start()
        assert self.settings is not None
        self.settings.server.url = self.server.url
        return self

    @property
    def server_url(self) -> str:
        assert self.server is not None, "stack not started"
        return self.server.url

    @property
    def sandbox_url(self) -> str:
        assert self.sandbox is not None, "stack not started"
        return self.sandbox.url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point a child process at this stack."""
        assert self.settings is not None and self.sandbox is not None
        env = {
            "MODELDECK_DATA_DIR": str(self.data_dir),
            "MODELDECK_SANDBOX__HOST": self.sandbox.host,
            "MODELDECK_SANDBOX__PORT": str(self.sandbox.port),
            "MODELDECK_SERVER__URL": self.server_url,
        }
        if self.database_url:
            env["MODELDECK_DATABASE_URL"] = self.database_url
        return env

    def stop(self) -> None:
        for part in (self.server, self.sandbox):
            if part is not None:
                part.stop()
        if self.deck is not None:
            self.deck.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
