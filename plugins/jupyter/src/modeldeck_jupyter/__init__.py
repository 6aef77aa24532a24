"""modeldeck's notebook panel: `from modeldeck_jupyter import Deck; Deck()`.

The widget classes are imported lazily so that loading the plugin entry point (done by every
modeldeck process, including the server) does not import ipywidgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeldeck_jupyter.panel import Deck, DeckPanel

__all__ = ["Deck", "DeckPanel"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from modeldeck_jupyter import panel

        return getattr(panel, name)
    raise AttributeError(f"module 'modeldeck_jupyter' has no attribute {name!r}")
