"""modeldeck's notebook panel (`from modeldeck_jupyter import Deck; Deck()`) and `%deck` magic.

The widget classes and IPython magics are imported lazily so that loading the plugin entry point
(done by every modeldeck process, including the server) imports neither ipywidgets nor IPython.
`%load_ext modeldeck_jupyter` registers `%deck <command>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeldeck_jupyter.panel import Deck, DeckPanel

__all__ = ["Deck", "DeckPanel", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext modeldeck_jupyter`: register the `%deck` line magic."""
    from modeldeck_jupyter import magics

    magics.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext modeldeck_jupyter`: close the deck `%deck` opened, if any."""
    from modeldeck_jupyter import magics

    magics.unload_ipython_extension(ipython)


def __getattr__(name: str) -> Any:
    if name in ("Deck", "DeckPanel"):
        from modeldeck_jupyter import panel

        return getattr(panel, name)
    raise AttributeError(f"module 'modeldeck_jupyter' has no attribute {name!r}")
