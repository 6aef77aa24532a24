"""End-to-end tests reuse the Slack suite's fake Slack and wire helpers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "slack"))
