"""Where a Slack action came from, carried to the hooks the deck fires while handling it.

The bot calls the deck in a worker thread (`asyncio.to_thread` copies context variables), and
the deck fires `request_created` / `request_decided` in that same thread, so the hooks can post
the card in the channel the command was typed in and tell the handler what they already did.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class SlackOrigin:
    """The channel and user of the command or click being handled, and what hooks did for it."""

    channel: str | None
    user: str
    posted: dict[str, tuple[str, str]] = field(default_factory=dict)
    updated: set[str] = field(default_factory=set)
    card_errors: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


ORIGIN: ContextVar[SlackOrigin | None] = ContextVar("modeldeck_slack_origin", default=None)


def current_origin() -> SlackOrigin | None:
    """The Slack command or click being handled in this context, if any."""
    return ORIGIN.get()
