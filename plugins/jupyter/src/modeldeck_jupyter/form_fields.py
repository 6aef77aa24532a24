"""The deploy form's text fields, one per grammar key, read by the grammar itself.

Each field keeps exactly what was typed; the form turns the fields into one `estimate`/`deploy`
line and parses it with `modeldeck.grammar.parse`, so the notebook accepts and refuses what the
CLI and Slack do (`20k`, `1,000`, `1.5`, `1h30m`, `2026-03-01T22:00+08:00`) with the grammar's
own messages, and never rewrites a value (2.5 units is refused as 2.5, not read as 25).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modeldeck.grammar.tokens import join_argv

_DURATION = re.compile(r"\s*[0-9][0-9.,_]*\s*[dhms].*", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """One text field: the grammar key it fills, its label, default and a placeholder."""

    key: str
    label: str
    default: str = ""
    placeholder: str = ""
    billing: str | None = None  # shown only for this billing method (durations)


FIELDS: tuple[Field, ...] = (
    Field("in", "Input TPM", "10000", "e.g. 20k or 20,000"),
    Field("out", "Output TPM", "1000", "e.g. 2k"),
    Field("thinking_out", "Thinking TPM", "", "thinking output TPM (optional)"),
    Field("units", "Units", "1", "whole Model Units, e.g. 2"),
    Field("hours", "Hours", "1", "10, 1.5 or a duration: 1h30m", billing="hourly"),
    Field("days", "Days", "1", "whole days, e.g. 7", billing="upfront"),
    Field("months", "Months", "1", "whole months, e.g. 1", billing="monthly"),
    Field("start", "Start", "", "ISO time, e.g. 2026-03-01T22:00+08:00 (estimate)"),
    Field("suffix", "Suffix", "", "1-8 letters, digits or '-' (optional)"),
    Field("name", "Name", "", "display name (optional)"),
    Field("context", "Max context", "", "max context length (optional)"),
    Field("max_input", "Max input", "", "max input tokens (optional)"),
    Field("rpm_limit", "RPM limit", "", "requests per minute (optional)"),
    Field("tpm_limit", "TPM limit", "", "tokens per minute (optional)"),
    Field("tags", "Tags", "", "key=value,... e.g. team=search,cc=42 (optional)"),
)
DURATION_KEYS = ("hours", "days", "months")


def hours_key(text: str) -> str:
    """`duration=` for a duration (1.5h, 90m, 1h30m), else `hours=` (10, 1.5, 1,000 — and the
    grammar's hours message for anything else)."""
    return "duration" if _DURATION.fullmatch(text) else "hours"


def form_line(
    verb: str, model: str, plan: str, options: dict[str, str], allowed: tuple[str, ...]
) -> str:
    """The grammar line for the form: `verb model plan key=value ...`, values as typed.

    Keys the verb does not take for this plan are left out, except `start` on a deploy, which is
    kept so the grammar says it is for estimates only instead of the form dropping it silently.
    """
    words = [verb, model, plan]
    for key, text in options.items():
        value = text.strip()
        if not value:
            continue
        real = hours_key(value) if key == "hours" else key
        if real in allowed or (key == "start" and verb == "deploy"):
            words.append(f"{real}={value}")
    return join_argv(words)
