"""docs/plugins.md documents each hook with its exact parameters (datasette-style check)."""

from __future__ import annotations

import inspect
import pathlib
import re

from modeldeck import hookspecs

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(\w+)\(([^)]*)\)`", re.MULTILINE)


def documented() -> dict[str, list[str]]:
    """Hook name -> parameter names, from each `### `name(a, b)`` heading of the doc."""
    return {
        name: [p.strip() for p in params.split(",") if p.strip()]
        for name, params in HEADING.findall(DOCS.read_text())
    }


def specs() -> dict[str, list[str]]:
    return {
        name: list(inspect.signature(getattr(hookspecs, name)).parameters)
        for name in dir(hookspecs)
        if getattr(getattr(hookspecs, name), "modeldeck_spec", None)
    }


def test_each_hook_is_documented_with_its_parameter_names() -> None:
    docs, code = documented(), specs()
    assert docs, "no hook headings found in docs/plugins.md"
    for name, params in code.items():
        assert name in docs, f"hook {name} has no `### `{name}(...)`` heading in docs/plugins.md"
        assert docs[name] == params, f"{name}: docs say {docs[name]}, hookspecs.py says {params}"
    stale = set(docs) - set(code)
    assert not stale, f"docs/plugins.md documents hooks that do not exist: {sorted(stale)}"


def test_the_doc_no_longer_promises_slack_expiry_alerts() -> None:
    assert "The Slack plugin posts expiry alerts" not in DOCS.read_text()
