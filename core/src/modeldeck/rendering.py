"""One renderer registry, keyed by (result type, surface).

The core registers a `text` renderer for every result and `cli` renderers (rich tables); the
Slack plugin registers `slack` ones (Block Kit cards), the notebook plugin `html` ones (Jinja2).
Plugins register theirs through the `register_renderers` hook, for their own result types too.
A type without a renderer of its own uses the nearest base class's (`Result` -> text).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from modeldeck.errors import ConfigError

__all__ = ["Renderer", "RendererRegistry", "find_renderer", "render", "renderers"]

Renderer = Callable[..., Any]
"""`renderer(result, **context) -> what the surface shows`."""


class RendererRegistry:
    """Renderers by (result type, surface); registering the same pair twice is an error."""

    def __init__(self) -> None:
        self._items: dict[tuple[type, str], Renderer] = {}
        self._owners: dict[tuple[type, str], str] = {}

    def register(
        self, result_type: type, surface: str, renderer: Renderer, *, owner: str = "a plugin"
    ) -> None:
        """Add `renderer` for `result_type` on `surface`."""
        if not isinstance(result_type, type) or not surface or not callable(renderer):
            raise ConfigError(
                f"{owner} registered a renderer that is not (a result type, a surface name, "
                "a callable)."
            )
        key = (result_type, surface)
        if key in self._items:
            raise ConfigError(
                f"Two renderers for {result_type.__name__} on {surface!r} "
                f"({self._owners[key]} and {owner}).",
                hint="Uninstall one plugin, or limit plugins with MODELDECK_LOAD_PLUGINS.",
            )
        self._items[key] = renderer
        self._owners[key] = owner

    def find(self, result_type: type, surface: str) -> Renderer | None:
        """The renderer for the type or its nearest base class on `surface`, if any."""
        for cls in result_type.__mro__:
            found = self._items.get((cls, surface))
            if found is not None:
                return found
        return None

    def render(self, result: Any, surface: str, **context: Any) -> Any:
        """Render `result` for `surface`; LookupError when nothing renders it there."""
        renderer = self.find(type(result), surface)
        if renderer is None:
            raise LookupError(f"No {surface!r} renderer for {type(result).__name__}.")
        return renderer(result, **context)

    def surfaces(self, result_type: type) -> set[str]:
        """The surfaces that can render `result_type` (directly or through a base class)."""
        bases = set(result_type.__mro__)
        return {surface for cls, surface in self._items if cls in bases}


_lock = threading.Lock()
_registry: tuple[object, RendererRegistry] | None = None


def _build(manager: Any) -> RendererRegistry:
    """Every `register_renderers` implementation's renderers (the core's are a default plugin,
    `modeldeck.default_plugins.renderers`)."""
    registry = RendererRegistry()

    def register(result_type: type, surface: str, renderer: Renderer) -> None:
        registry.register(result_type, surface, renderer)

    manager.hook.register_renderers(register=register)
    return registry


def renderers() -> RendererRegistry:
    """The process-wide registry: core renderers plus every plugin's, built once per plugin
    manager (a reloaded manager collects the plugins again)."""
    global _registry
    from modeldeck import plugins

    manager = plugins.get_plugin_manager()
    cached = _registry
    if cached is not None and cached[0] is manager:
        return cached[1]
    with _lock:
        if _registry is None or _registry[0] is not manager:
            _registry = (manager, _build(manager))
        return _registry[1]


def reset_renderers() -> None:
    """Forget the registry so the next use collects the plugins again (tests)."""
    global _registry
    with _lock:
        _registry = None


def find_renderer(result_type: type, surface: str) -> Renderer | None:
    """Shortcut for `renderers().find(...)`."""
    return renderers().find(result_type, surface)


def render(result: Any, surface: str, **context: Any) -> Any:
    """Shortcut for `renderers().render(...)`."""
    return renderers().render(result, surface, **context)
