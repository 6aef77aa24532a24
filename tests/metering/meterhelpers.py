"""Helpers of the metering tests: the deck under test (sandbox, provider, store) and prompts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from modeldeck.catalog import Catalog, CatalogBuilder
from modeldeck.catalog.data import builtin_entries
from modeldeck.metering import MeteredClient
from modeldeck.provider import ModelStudioClient
from modeldeck.sandbox.engine import Sandbox
from modeldeck.store import Store
from modeldeck.timeutil import BEIJING

API_KEY = "sk-metering-test"
SANDBOX_START = datetime(2026, 3, 1, 10, 0, 0, tzinfo=BEIJING)
_suffixes = itertools.count(1)


@dataclass
class Deck:
    """A running sandbox, a provider client for it and a store."""

    url: str
    sandbox: Sandbox
    provider: ModelStudioClient
    store: Store
    journal_dir: Path
    modes: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def deploy_ptu(
        self,
        model: str = "qwen3-max-2025-09-23",
        *,
        input_tpm: int = 10_000,
        output_tpm: int = 1_000,
        overflow: bool = True,
        thinking: bool | None = None,
    ) -> str:
        """Create a PTU deployment at the sandbox (RUNNING at once); its Model Code."""
        body: dict[str, Any] = {
            "model_name": model,
            "plan": "ptu",
            "charge_type": "post_paid",
            "suffix": f"m{next(_suffixes)}",
            "ptu_capacity": {"input_tpm": input_tpm, "output_tpm": output_tpm},
            "overflow_strategy": "enable" if overflow else "disable",
        }
        info = self.provider.create_deployment(body)
        assert self.provider.get_deployment(info.deployed_model).status == "RUNNING"
        if thinking is not None:
            # enable_thinking is an MU create option; a PTU deployment's mode is modeldeck's own
            # record (the store's `mode`), which this stand-in lookup keeps.
            self.modes[info.deployed_model] = "thinking" if thinking else "instruct"
        return info.deployed_model

    def lookup(self, deployed_model: str) -> tuple[str, str] | None:
        """(model, mode) of a deployment, asked of the provider over HTTP."""
        info = self.provider.get_deployment(deployed_model)
        if info.model_name is None:
            return None
        mode = self.modes.get(deployed_model)
        return info.model_name, mode or ("thinking" if info.enable_thinking else "instruct")

    def client(self, **kwargs: Any) -> MeteredClient:
        kwargs.setdefault("catalog", builtin_catalog())
        kwargs.setdefault("deployments", self.lookup)
        kwargs.setdefault("journal_dir", self.journal_dir)
        return MeteredClient(self.base_url, API_KEY, store=self.store, **kwargs)

    def sandbox_usage(self, deployed_model: str) -> list[dict[str, Any]]:
        """The sandbox's own per-minute counters for a deployment (an independent tally)."""
        return self.sandbox.meter.rows(self.sandbox.config.workspace_id, deployed_model)


@cache
def builtin_catalog() -> Catalog:
    """The seed's prices without loading plugins (which import Slack and Jupyter stacks)."""
    builder = CatalogBuilder()
    builder.register(builtin_entries(), source="built-in")
    return builder.build()


def words(n: int) -> str:
    """A prompt of exactly `n` sandbox tokens (one per word)."""
    return " ".join(f"w{i % 97}" for i in range(n))


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def stepping_clock(*instants: datetime) -> Callable[[], datetime]:
    """A clock for the metered client that returns the given instants, then the last one."""
    items = list(instants)

    def now() -> datetime:
        return items.pop(0) if len(items) > 1 else items[0]

    return now
