"""Collect what plugins register through ``register_*`` hooks: validated, duplicates refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.errors import ConfigError


class Registry:
    """Named things registered by plugins; a second registration of a name is an error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {}
        self.owners: dict[str, str] = {}

    def register(self, name: str, item: Any, *, owner: str = "a plugin") -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{owner} registered a {self.kind} with an empty name.")
        if name in self.items:
            raise ConfigError(
                f"Two plugins register the {self.kind} {name!r} ({self.owners[name]} and {owner}).",
                hint="Uninstall one, or limit plugins with MODELDECK_LOAD_PLUGINS.",
            )
        self.items[name] = item
        self.owners[name] = owner


def collect(kind: str, call: Callable[[Callable[..., None]], Any]) -> Registry:
    """Run a ``register_*`` hook with a register callback and return what it collected."""
    registry = Registry(kind)

    def register(name: str, item: Any, **_: Any) -> None:
        registry.register(name, item)

    call(register)
    return registry
