"""The sandbox's clock: virtual time that runs at `clock_speed` and can be advanced by hand.

Virtual time is epoch seconds: ``anchor_virtual + (wall - anchor_wall) * speed + offset``. The
anchor is kept in the sandbox's database, so a restarted sandbox continues the same timeline.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from modeldeck.timeutil import BEIJING


class SandboxClock:
    """Virtual time for statuses, timestamps and per-minute windows."""

    def __init__(self, speed: float, anchor_wall: float, anchor_virtual: float) -> None:
        self.speed = speed
        self.anchor_wall = anchor_wall
        self.anchor_virtual = anchor_virtual
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current virtual time, epoch seconds."""
        with self._lock:
            return self.anchor_virtual + (time.time() - self.anchor_wall) * self.speed

    def advance(self, seconds: float) -> float:
        """Jump virtual time forward (never back); returns the new virtual time."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self.anchor_virtual += seconds
        return self.now()

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long `virtual_seconds` take on the wall clock."""
        return virtual_seconds / self.speed

    def datetime(self, value: float | None = None) -> datetime:
        """A virtual instant as an aware Beijing datetime (default: now)."""
        return datetime.fromtimestamp(self.now() if value is None else value, BEIJING)


def gmt(value: float) -> str:
    """Model Studio's `gmt_*` format: Beijing local time, no zone, and like the service's answers
    fractional seconds (at most two digits, trailing zeros dropped) when the instant has any:
    ``2025-06-17T11:00:38.68``, ``2025-06-17T11:00:38``."""
    at = datetime.fromtimestamp(value, BEIJING)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    centis = at.microsecond // 10_000
    return f"{text}.{centis:02d}".rstrip("0") if centis else text
