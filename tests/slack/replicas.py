"""A second modeldeck server on the same store and sandbox: a replica behind one Request URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modeldeck.deck import Deck
from modeldeck.serving import ServerThread
from modeldeck.testing import Stack
from tests.slack.slack_env import SIGNING_SECRET
from tests.slack.slack_wire import SlackSender


@contextmanager
def replica(stack: Stack) -> Iterator[tuple[Deck, SlackSender]]:
    """Another deck and server on `stack`'s database and settings, and a sender to its Slack."""
    from modeldeck.server import create_app

    assert stack.settings is not None
    deck = Deck(stack.settings)
    server = ServerThread(create_app(deck, stack.settings, reconcile_interval=0)).start()
    sender = SlackSender(server.url, SIGNING_SECRET)
    try:
        yield deck, sender
    finally:
        sender.close()
        server.stop()
        deck.close()
