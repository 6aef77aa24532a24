"""Default plugin: registers the built-in price catalog (the seed's tables) through the hook.

It is ``trylast`` like every built-in default, so plugin catalogs are collected first; conflicts
between any two sources are detected in one place, :mod:`modeldeck.catalog.builder`.
"""

from __future__ import annotations

from collections.abc import Callable

from modeldeck.hookspecs import hookimpl

BUILTIN_SOURCE = "the built-in catalog (modeldeck.catalog)"


@hookimpl(trylast=True)
def register_catalogs(register: Callable[..., None]) -> None:
    """Register every built-in model and price."""
    # Imported lazily so the plugin manager can load this module before the catalog is needed.
    from modeldeck.catalog.data import builtin_entries

    register(builtin_entries(), source=BUILTIN_SOURCE)
