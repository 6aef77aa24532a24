"""Default plugin: registers the built-in "modelstudio" provider factory (overridable)."""

from __future__ import annotations

from collections.abc import Callable

from modeldeck.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_providers(register: Callable[..., None]) -> None:
    """Register ``modelstudio``: the Model Studio client (or the embedded sandbox) from settings."""
    from modeldeck.provider.factory import make_client

    register("modelstudio", make_client)
