"""Default plugin: declares the core's event classes (``register_events``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modeldeck.hookspecs import hookimpl

if TYPE_CHECKING:
    from modeldeck.events import Event


@hookimpl(trylast=True)
def register_events(register: Callable[[type[Event]], None]) -> None:
    """Register every event the core emits (see :mod:`modeldeck.events`)."""
    from modeldeck.events import CORE_EVENTS  # when the hook runs, not when plugins load

    for event_class in CORE_EVENTS:
        register(event_class)
