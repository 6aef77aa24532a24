"""How the grammar quotes user text in its errors: one short, flat paragraph with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

_MAX_SHOWN = 40


def shown(text: str) -> str:
    """User text shortened and flattened so an error stays one readable paragraph."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_SHOWN else flat[: _MAX_SHOWN - 1] + "…"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """` Did you mean 'x' or 'y'?` for close matches, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
