"""Which model and mode a deployed model runs: the caller's lookup or the store's deployments.

Results are cached for a minute (unknown ones for 5 s) so the call path rarely pays for a lookup,
and a failing lookup never fails a call: its record just has no model (and an overflow cost of
null, which says the price could not be determined).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow

log = logging.getLogger("modeldeck.metering")
Lookup = Callable[[str], tuple[str, str] | None]
ModelMode = tuple[str | None, str | None]
UNKNOWN: ModelMode = (None, None)


class StoreDeployments:
    """Looks a deployed model up in the store's `deployments` table: (model, mode)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, deployed_model: str) -> tuple[str, str] | None:
        with self.store.session() as session:
            row = session.execute(
                select(DeploymentRow.model, DeploymentRow.mode).where(
                    DeploymentRow.deployed_model == deployed_model
                )
            ).first()
        return None if row is None else (row[0], row[1])


class CachedLookup:
    """A lookup with a time-to-live cache (thread-safe)."""

    def __init__(self, lookup: Lookup, *, ttl: float = 60.0, unknown_ttl: float = 5.0) -> None:
        self.lookup = lookup
        self.ttl = ttl
        self.unknown_ttl = unknown_ttl
        self._cache: dict[str, tuple[float, ModelMode]] = {}
        self._lock = threading.Lock()

    def cached(self, deployed_model: str) -> ModelMode | None:
        """The cached answer, or None when it must be looked up."""
        hit = self._cache.get(deployed_model)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def __call__(self, deployed_model: str) -> ModelMode:
        hit = self.cached(deployed_model)
        if hit is not None:
            return hit
        try:
            found = self.lookup(deployed_model)
        except Exception as exc:  # a broken lookup must not fail the call it meters
            log.warning(
                "metering: looking up deployment %s failed (%s)",
                deployed_model,
                type(exc).__name__,
            )
            found = None
        answer: ModelMode = UNKNOWN if found is None else (found[0], found[1])
        ttl = self.unknown_ttl if found is None else self.ttl
        with self._lock:
            self._cache[deployed_model] = (time.monotonic() + ttl, answer)
        return answer
