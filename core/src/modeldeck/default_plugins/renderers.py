"""Default plugin: the core's text, CLI and JSON renderers (`register_renderers`, trylast).

Loaded by every process that makes the plugin manager (`modeldeck --help` too), so it imports
the renderers (results, rich, the text modules) only when the hook runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_renderers(register: Callable[[type, str, Callable[..., Any]], None]) -> None:
    """Text, CLI and JSON renderings of every built-in result."""
    from modeldeck.default_plugins import core_renderers

    core_renderers.register_renderers(register)
