"""Idempotency keys for the notebook's buttons: one key per form as it was sent.

A double click, or a second click after an answer that never came back (a dropped connection to
the server), sends the same form again with the same key, so the deck answers with the first
request instead of making a second one. Editing the form starts a new submission (a new key).
"""

from __future__ import annotations

import uuid


class SubmissionKeys:
    """The key of the form last sent from one button; a new one whenever the form differs."""

    def __init__(self) -> None:
        self._form: str | None = None
        self._key = ""

    def key_for(self, form: str) -> str:
        """The key to send `form` with: the previous one when the form is unchanged."""
        if form != self._form:
            self._form = form
            self._key = f"jupyter-click:{uuid.uuid4().hex}"
        return self._key
