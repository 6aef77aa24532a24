"""Events API deliveries processed once: Slack retries an event (same `event_id`) when it did not
see a 200 within 3 s, and Bolt does not deduplicate. A retry is answered 200 and dropped.

Two layers: this process's memory (bounded, ten minutes: Slack retries three times within
about five) answers a retry it saw without a database round trip; then the `event_id` is claimed
in the store (`Deck.claim_once`, the `claims` table), so of several replicas behind one Request
URL exactly one processes it. A store that cannot be reached fails open (processed, logged):
a duplicate beats a lost approval.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

KEEP_SECONDS = 600.0
KEEP_AT_MOST = 10_000
CLAIM_KIND = "slack_event"
# Claims older than this are pruned (every PRUNE_EVERY claims): Slack retries within minutes.
CLAIM_KEEP = timedelta(days=1)
PRUNE_EVERY = 500

Claim = Callable[[str, str], bool]


class SeenEvents:
    """event ids seen recently; `first(id)` is True once per id."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS, at_most: int = KEEP_AT_MOST) -> None:
        self.keep_seconds = keep_seconds
        self.at_most = at_most
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, event_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.at_most
                or next(iter(self._seen.values())) < now - self.keep_seconds
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


class SharedEvents:
    """The replicas' agreement on who processes an `event_id`: a claimed row in the store."""

    def __init__(self, deck: Any) -> None:
        self.deck = deck
        self._count = 0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return callable(getattr(self.deck, "claim_once", None))

    def first(self, event_id: str) -> bool:
        """True for the one process that claims this event id (runs in a worker thread)."""
        from modeldeck.timeutil import utcnow

        won = bool(self.deck.claim_once(CLAIM_KIND, f"{CLAIM_KIND}:{event_id}"))
        with self._lock:
            self._count += 1
            prune = self._count % PRUNE_EVERY == 0
        if prune:
            self.deck.prune_claims(CLAIM_KIND, utcnow() - CLAIM_KEEP)
        return won


def dedup_middleware(
    seen: SeenEvents, shared: SharedEvents | None = None
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt global middleware: a delivery of an `event_id` already seen (here, or by another
    replica through the store) is answered 200 and dropped."""

    async def dedupe_events(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse | None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str):
            if not seen.first(event_id):
                return BoltResponse(status=200, body="")
            if shared is not None and shared.available:
                try:
                    won = await asyncio.to_thread(shared.first, event_id)
                except Exception as exc:  # fail open: a duplicate beats a lost event
                    log.warning("could not claim Slack event %s: %s", event_id, type(exc).__name__)
                    won = True
                if not won:
                    return BoltResponse(status=200, body="")
        return await next()

    return dedupe_events
