"""Events API deliveries processed once: Slack retries an event (same `event_id`) when it did not
see a 200 within 3 s, and Bolt does not deduplicate. A retry is answered 200 and dropped.

The memory is this process's (bounded, ten minutes: Slack retries three times within about
five); replicas behind one Request URL each remember what they processed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

KEEP_SECONDS = 600.0
KEEP_AT_MOST = 10_000


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


def dedup_middleware(seen: SeenEvents) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt global middleware: a delivery of an `event_id` already seen is answered 200."""

    async def dedupe_events(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse | None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not seen.first(event_id):
            return BoltResponse(status=200, body="")
        return await next()

    return dedupe_events
