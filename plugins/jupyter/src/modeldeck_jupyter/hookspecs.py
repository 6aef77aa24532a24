"""Hooks the Jupyter plugin declares for other plugins (pytest style: when, params, return).

They join modeldeck's one plugin manager when the Jupyter plugin is loaded (its entry-point module
names this module as ``modeldeck_hookspecs``), so a plugin implements them with
``modeldeck.hookspecs.hookimpl`` like any core hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.hookspecs import hookspec


@hookspec
def register_panel_tabs(register: Callable[..., None], panel: Any) -> None:
    """Add tabs to the notebook panel, after its own.

    Called once each time a panel is built; every implementation is called on its own, so one
    that raises is logged and the panel still shows (without that plugin's tabs).

    :param register: call ``register(title, widget)`` with the tab's title (a non-empty string,
        unique in the panel) and an ipywidgets widget to show in it.
    :param panel: the :class:`modeldeck_jupyter.DeckPanel` being built: ``panel.deck`` is its
        ``DeckAPI`` (once connected), ``panel.actor`` who acts.
    :return: nothing; tabs are added through ``register``.
    """
