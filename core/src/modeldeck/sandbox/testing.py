"""Run a sandbox in-process for tests: fast delays by default, real HTTP on 127.0.0.1.

>>> with running_sandbox(deploy_delay_seconds=0.2) as sb:      # doctest: +SKIP
...     client = sb.client()
...     info = client.create_deployment({...})
...     sb.wait_for_status(client, info.deployed_model, "RUNNING")
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from modeldeck.provider.client import ModelStudioClient
from modeldeck.provider.errors import ProviderNotFound
from modeldeck.provider.models import DeploymentInfo
from modeldeck.sandbox.app import create_app
from modeldeck.sandbox.config import DEFAULT_API_KEY, SandboxConfig
from modeldeck.sandbox.engine import Sandbox
from modeldeck.serving import ServerThread

FAST = {
    "deploy_delay_seconds": 0.2,
    "scale_delay_seconds": 0.2,
    "delete_delay_seconds": 0.2,
    "billing_delay_seconds": 0.2,
}


@dataclass
class RunningSandbox:
    """A sandbox being served: its URLs, its engine and a client factory."""

    url: str
    sandbox: Sandbox
    server: ServerThread
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def http(self) -> httpx.Client:
        """A raw HTTP client for this sandbox, authenticated with the default key."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.url, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (statuses, operations, expiry, arrears follow)."""
        self.sandbox.advance(seconds)

    def set_arrears(self, overdue: bool) -> dict[str, Any]:
        """Mark the account overdue (pay-as-you-go goes ARREARS_DOWN) or paid."""
        return self.sandbox.set_arrears(overdue)

    @property
    def base_url(self) -> str:
        """Deployments API base, as `provider.base_url` would be configured."""
        return f"{self.url}/api/v1"

    @property
    def compatible_url(self) -> str:
        return f"{self.url}/compatible-mode/v1"

    def client(self, api_key: str | None = DEFAULT_API_KEY, **kwargs: Any) -> ModelStudioClient:
        """A client for this sandbox (fast backoff unless overridden)."""
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("backoff_max", 0.05)
        return ModelStudioClient(self.base_url, api_key, **kwargs)

    def wait_for_status(
        self,
        client: ModelStudioClient,
        deployed_model: str,
        status: str | None,
        timeout: float = 20.0,
    ) -> DeploymentInfo | None:
        """Poll until the deployment has `status` (None: until it is gone, 404); the last answer."""
        deadline = time.monotonic() + timeout
        last: DeploymentInfo | None = None
        while True:
            try:
                last = client.get_deployment(deployed_model)
            except ProviderNotFound:
                if status is None:
                    return None
                raise
            if status is not None and last.status == status:
                return last
            if time.monotonic() > deadline:
                seen = last.status if last else "nothing"
                raise TimeoutError(f"{deployed_model} did not reach {status} (last: {seen})")
            time.sleep(0.05)


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, **overrides: Any
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on a free 127.0.0.1 port for the duration of the block."""
    if config is None:
        config = SandboxConfig(**{**FAST, **overrides})
    elif overrides:
        config = config.model_copy(update=overrides)
    app = create_app(config)
    with ServerThread(app) as server:
        running = RunningSandbox(url=server.url, sandbox=app.state.sandbox, server=server)
        try:
            yield running
        finally:
            running.close()
