"""Shared names for the spend tests that run against a sandbox: the team and the deck factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.deck import Deck

PRINCIPALS: list[dict[str, Any]] = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "jupyter_user": "bob", "roles": ["approver"]},
    {"name": "dave", "jupyter_user": "dave", "roles": ["admin"]},
    {"name": "victor", "jupyter_user": "victor", "roles": ["viewer"]},
]

MakeDeck = Callable[..., Deck]
