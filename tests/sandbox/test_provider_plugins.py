"""Providers come from the `register_providers` hook: a plugin's provider is what the deck uses
when `provider.kind` names it, and a second registration of a name fails loudly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modeldeck import plugins
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.errors import ConfigError
from modeldeck.hookspecs import hookimpl
from modeldeck.provider import ModelStudioClient
from modeldeck.provider.factory import get_provider, make_client
from modeldeck.sandbox.testing import running_sandbox
from modeldeck.settings import Settings


class CountingClient(ModelStudioClient):
    """The real client, counting the creates it sends (what a provider plugin might add)."""

    creates = 0

    def create_deployment(self, *args: Any, **kwargs: Any) -> Any:
        type(self).creates += 1
        return super().create_deployment(*args, **kwargs)


class CountingPlugin:
    @hookimpl
    def register_providers(self, register: Callable[..., None]) -> None:
        register(
            "counting",
            lambda settings: CountingClient(settings.provider.base_url, settings.provider.api_key),
        )


class ClashingPlugin:
    @hookimpl
    def register_providers(self, register: Callable[..., None]) -> None:
        register("modelstudio", make_client)


@pytest.fixture
def plugin_manager() -> Iterator[Any]:
    pm = plugins.get_plugin_manager()
    yield pm
    for name in ("counting", "clashing"):
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)


def test_a_plugin_provider_is_used_when_named(plugin_manager: Any, tmp_path: Path) -> None:
    plugin_manager.register(CountingPlugin(), name="counting")
    with running_sandbox() as sb:
        settings = Settings(
            data_dir=tmp_path,
            provider={"kind": "counting", "base_url": sb.base_url, "api_key": "sk-sandbox"},
        )
        deck = Deck(settings)
        assert isinstance(deck.provider, CountingClient)
        before = CountingClient.creates
        alice = Actor(principal="alice", surface="cli", roles=["deployer"])
        bob = Actor(principal="bob", surface="cli", roles=["approver"])
        request = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), alice)
        assert deck.approve(request.id, bob).outcome == "executed"
        assert CountingClient.creates == before + 1
        deck.close()


def test_unknown_and_duplicate_provider_names_fail_loudly(plugin_manager: Any) -> None:
    with pytest.raises(ConfigError, match="No provider named 'nope'"):
        get_provider(Settings(provider={"kind": "nope"}))
    plugin_manager.register(ClashingPlugin(), name="clashing")
    with pytest.raises(ConfigError, match="Two plugins register the provider 'modelstudio'"):
        get_provider(Settings())
