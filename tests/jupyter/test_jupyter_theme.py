"""The panel follows the JupyterLab theme and reflows (issue 14 item 6), checked in-kernel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as W
import pytest

import modeldeck_jupyter
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel

SOURCES = Path(modeldeck_jupyter.__file__).parent
HEX = re.compile(r"#[0-9a-fA-F]{3,6}\b")
THEMED_HEX = re.compile(r"var\(--jp-[a-z0-9-]+,\s*#[0-9a-fA-F]{3,6}\)")
COLOR_DECL = re.compile(r"(?<![-\w])(?:color|background|border[-a-z]*)\s*:\s*([^;'\"]+)")


@pytest.fixture
def panel(stack: Stack) -> Iterator[DeckPanel]:
    assert stack.deck is not None
    built = Deck(stack.deck, user="alice", auto_refresh=False)
    yield built
    built.close()


def _widgets(root: W.Widget) -> Iterator[W.Widget]:
    yield root
    for child in getattr(root, "children", ()):
        yield from _widgets(child)


def test_no_hard_coded_colour_in_the_plugin() -> None:
    """Every colour is a JupyterLab theme variable; a hex only as its fallback (Voila, HTML)."""
    offenders = []
    for path in [*SOURCES.glob("*.py"), *SOURCES.glob("templates/*.j2")]:
        text = THEMED_HEX.sub("", path.read_text())
        offenders += [f"{path.name}: {m.group(0)}" for m in HEX.finditer(text)]
    assert offenders == []


def test_every_colour_shown_is_a_theme_variable(panel: DeckPanel) -> None:
    panel.input_tpm.value = "15000"  # an error, in red
    html = " ".join(w.value for w in _widgets(panel.widget) if isinstance(w, W.HTML))
    declared = [v.strip() for v in COLOR_DECL.findall(html)]
    assert declared, "nothing coloured: the check would pass vacuously"
    assert [v for v in declared if HEX.search(v) and not v.startswith("var(--jp-")] == []


def test_the_panel_reflows_at_1024px(panel: DeckPanel) -> None:
    """No widget is wider than a narrow column; rows wrap instead of cutting text off."""
    fixed = []
    for widget in _widgets(panel.widget):
        width = getattr(widget.layout, "width", None) or ""
        if width.endswith("px") and int(width[:-2]) > 360:
            fixed.append((type(widget).__name__, width))
    assert fixed == []
    form = panel.tabs.children[0]
    assert form.children[0].layout.flex_flow == "row wrap"
    assert panel.estimate_html.layout.min_width == "0"


def test_the_header_is_compact(panel: DeckPanel) -> None:
    header = panel.header_html.value
    assert "modeldeck-header-line" in header and "flex-wrap:wrap" in header
    assert "→ alice (" in header
    assert "notebook user <b>" not in header  # no run-on sentence
