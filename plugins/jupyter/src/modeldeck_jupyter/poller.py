"""A stoppable background thread that calls a function every few seconds (table auto-refresh).

A thread rather than an asyncio task so it works the same in a kernel, in nbclient and in plain
pytest; ipykernel sends widget updates from any thread. The callback must not raise: errors are
its to show; an escaping one is logged and polling goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Poller:
    """Calls `callback` every `interval` seconds on a daemon thread until `stop()`."""

    def __init__(
        self, callback: Callable[[], object], interval: float, name: str = "poller"
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive seconds, got {interval!r}")
        self.callback = callback
        self.interval = interval
        self.name = name
        self.calls = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling (the first call comes after one interval); no-op if running."""
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for the call in progress, if any, to end."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval):
            try:
                self.callback()
            except Exception:  # the callback shows its own errors; keep polling
                log.debug("poll callback failed", exc_info=True)
            self.calls += 1
