"""Import hygiene: the plugin entry point is light and nothing in the package pulls in Slack."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
import modeldeck_jupyter.plugin
assert "ipywidgets" not in sys.modules, "loading the entry point imported ipywidgets"
assert "IPython" not in sys.modules, "loading the entry point imported IPython"
from modeldeck_jupyter import load_ipython_extension
import modeldeck_jupyter.tables
assert "ipywidgets" not in sys.modules, "the magic hook or the HTML tables imported ipywidgets"
from modeldeck_jupyter import Deck, DeckPanel
import modeldeck_jupyter.connect, modeldeck_jupyter.render, modeldeck_jupyter.poller
import modeldeck_jupyter.magics, modeldeck_jupyter.approvals, modeldeck_jupyter.cost_view
assert Deck is DeckPanel
slack = sorted(m for m in sys.modules if m.split(".")[0] in ("slack_bolt", "slack_sdk"))
assert not slack, f"modeldeck_jupyter imported {slack}"
print("ok")
"""


@pytest.mark.slow
def test_plugin_is_light_and_never_imports_slack() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


FIRST_PAINT = """
import sys
import modeldeck_jupyter.panel
heavy = sorted(
    m for m in ("sqlalchemy", "alembic", "matplotlib", "modeldeck.results", "modeldeck.store",
                "modeldeck.metering", "modeldeck.workflow.costs")
    if m in sys.modules
)
assert not heavy, f"building the panel imports {heavy} before its first paint"
print("ok")
"""


@pytest.mark.slow
def test_the_panel_paints_before_importing_the_store_or_matplotlib() -> None:
    """A new kernel's cell run → panel visible pays for what `Deck()` imports: the store's types
    (SQLAlchemy), Alembic, metering and matplotlib wait for the background fill or a chart."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
