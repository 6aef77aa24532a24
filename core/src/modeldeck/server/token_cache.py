"""A short-lived memory of which principal a presented API token belongs to.

Each REST call authenticates its bearer token; looking it up in the store cost about as much as
answering a read. The server remembers a token's principal for `ttl` seconds (keyed by the
token's SHA-256, never the token itself): revoking a token through this server forgets every
entry at once; another replica stops accepting a revoked token within `ttl` seconds.
Unknown or revoked tokens are never remembered.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class TokenCache:
    """principal by token digest, each entry valid for `ttl` seconds."""

    def __init__(
        self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, str]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def principal(self, token: str, look_up: Callable[[str], str]) -> str:
        """The token's principal: remembered, or `look_up(token)` (which raises when unknown)."""
        key, now = self._key(token), self._clock()
        with self._lock:
            found = self._known.get(key)
        if found is not None and found[0] > now:
            return found[1]
        principal = look_up(token)
        with self._lock:
            if len(self._known) >= MAX_ENTRIES:
                self._known.clear()
            self._known[key] = (now + self.ttl, principal)
        return principal

    def clear(self) -> None:
        """Forget every token (after a revocation)."""
        with self._lock:
            self._known.clear()
