"""What only the in-process deck offers the panel: the metered client and the store's charts.

Both read or write the store (the metering journal and the per-minute roll-ups), which in team
mode lives beside the server, so a `RemoteDeck` has neither; the panel says so instead of
failing later.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from modeldeck.api import DeckAPI
from modeldeck.errors import ValidationFailed

if TYPE_CHECKING:
    from modeldeck.charts.data import SpendChart, UsageChart
    from modeldeck.metering import MeteredClient


@runtime_checkable
class LocalDeck(Protocol):
    """The in-process deck's extras (`modeldeck.deck.Deck` has them)."""

    def metered_client(self) -> MeteredClient: ...

    def usage_chart(self, ref: str, since: datetime, until: datetime) -> UsageChart: ...

    def budget_chart(self, name: str, *, now: datetime | None = None) -> SpendChart: ...


def local(deck: DeckAPI, what: str) -> LocalDeck:
    """The deck as a LocalDeck, or a clear error naming what needs it."""
    if isinstance(deck, LocalDeck):
        return deck
    raise ValidationFailed(
        f"{what} needs the in-process deck: it reads the store, which in team mode is on the "
        "server.",
        hint="Open the panel in-process (no server=, no MODELDECK_SERVER__URL), or run "
        "`modeldeck chart …` beside the server.",
    )
