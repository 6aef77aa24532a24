"""Health of what a plugin runs beside the server (Slack's connection, …), for `/healthz`.

A plugin reports with `set_status(name, ok, detail)`; `/healthz` lists every report under
`checks` and says `degraded` while one is not ok. Process-local: each replica reports its own.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_checks: dict[str, dict[str, Any]] = {}


def set_status(name: str, ok: bool, detail: str = "") -> None:
    """Record the state of `name` (the detail must hold no secret: it is served as is)."""
    with _lock:
        _checks[name] = {"ok": ok, "detail": detail}


def clear(name: str) -> None:
    with _lock:
        _checks.pop(name, None)


def checks() -> dict[str, dict[str, Any]]:
    with _lock:
        return {name: dict(value) for name, value in _checks.items()}
