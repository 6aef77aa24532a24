"""Default plugin: declares the core's event classes (``register_events``)."""

from __future__ import annotations

from collections.abc import Callable

from modeldeck.events import CORE_EVENTS, Event
from modeldeck.hookspecs import hookimpl


@hookimpl(trylast=True)
def register_events(register: Callable[[type[Event]], None]) -> None:
    """Register every event the core emits (see :mod:`modeldeck.events`)."""
    for event_class in CORE_EVENTS:
        register(event_class)
