"""The sandbox's own SQLite state: deployments (with their capacity instances and operations),
and a key-value table for the clock anchor, id sequences, request ids and the arrears mark.

One connection guarded by a lock (the sandbox serves from one event loop; tests may poke it from
another thread). A file path keeps deployments across restarts; None keeps them in memory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    deployed_model TEXT NOT NULL,
    purged INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_code ON deployments (workspace_id, deployed_model, purged);
"""


class SandboxStore:
    """Rows of JSON deployments keyed by workspace and Model Code."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            str(path) if path is not None else ":memory:", check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        with self.lock, self._conn:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.lock, self._conn:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def insert(self, workspace_id: str, deployed_model: str, data: dict[str, Any]) -> int:
        with self.lock, self._conn:
            cur = self._conn.execute(
                "INSERT INTO deployments (workspace_id, deployed_model, data) VALUES (?, ?, ?)",
                (workspace_id, deployed_model, json.dumps(data)),
            )
        return int(cur.lastrowid or 0)

    def update(self, row_id: int, data: dict[str, Any]) -> None:
        with self.lock, self._conn:
            self._conn.execute(
                "UPDATE deployments SET data = ? WHERE id = ?", (json.dumps(data), row_id)
            )

    def purge(self, row_id: int) -> None:
        """Mark a deployment that is gone (deleted or released) so its code can be reused."""
        with self.lock, self._conn:
            self._conn.execute("UPDATE deployments SET purged = 1 WHERE id = ?", (row_id,))

    def find(self, workspace_id: str, deployed_model: str) -> tuple[int, dict[str, Any]] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT id, data FROM deployments WHERE workspace_id = ? AND deployed_model = ? "
                "AND purged = 0 ORDER BY id DESC LIMIT 1",
                (workspace_id, deployed_model),
            ).fetchone()
        return None if row is None else (int(row["id"]), json.loads(row["data"]))

    def by_id(self, row_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT data FROM deployments WHERE id = ?", (row_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def active(self, workspace_id: str | None = None) -> list[tuple[int, dict[str, Any]]]:
        """Deployments not yet purged, oldest first (all workspaces when None)."""
        sql = "SELECT id, data FROM deployments WHERE purged = 0"
        args: tuple[Any, ...] = ()
        if workspace_id is not None:
            sql += " AND workspace_id = ?"
            args = (workspace_id,)
        with self.lock:
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [(int(r["id"]), json.loads(r["data"])) for r in rows]

    def count(self, model_name: str | None = None) -> int:
        """Every deployment ever created (purged included), optionally of one base model."""
        with self.lock:
            rows = self._conn.execute("SELECT data FROM deployments").fetchall()
        items = [json.loads(r["data"]) for r in rows]
        return sum(1 for d in items if model_name is None or d.get("model_name") == model_name)
