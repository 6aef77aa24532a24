"""The demo notebook, executed headlessly in a real kernel pointed at a running modeldeck server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from modeldeck.testing import Stack

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebook.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _widgets_with_class(nb: Any, css: str) -> list[dict[str, Any]]:
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    return [m["state"] for m in state.values() if css in m["state"].get("_dom_classes", [])]


def test_notebook_has_a_kernelspec_and_no_stored_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


@pytest.mark.slow
def test_notebook_runs_and_shows_the_panel(stack: Stack, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    client.execute(env={**os.environ, **stack.env})

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [out for out in outputs if out.output_type == "error"]
    assert not errors, errors
    text = "\n".join(str(out) for out in outputs)
    assert "Traceback" not in text

    panel_cell = next(c for c in nb.cells if c.cell_type == "code" and "Deck()" in c.source)
    views = [
        out.data[WIDGET_VIEW] for out in panel_cell.outputs if WIDGET_VIEW in out.get("data", {})
    ]
    assert len(views) == 1, panel_cell.outputs

    (panel_box,) = _widgets_with_class(nb, "modeldeck-panel")
    assert panel_box["_view_name"] == "VBoxView"
    (header,) = _widgets_with_class(nb, "modeldeck-header")
    assert f"server {stack.server_url}" in header["value"]  # the kernel went through the server
    (estimate,) = _widgets_with_class(nb, "modeldeck-estimate")
    assert "modeldeck-estimate-ok" in estimate["value"]
    assert "$" in estimate["value"]
    (models,) = _widgets_with_class(nb, "modeldeck-model")
    assert "qwen3-max-2025-09-23" in models["_options_labels"]

    (tabs,) = [
        m["state"]
        for m in nb.metadata["widgets"][WIDGET_STATE]["state"].values()
        if m["state"].get("_view_name") == "TabView"
    ]
    from modeldeck_jupyter.panel import TAB_TITLES

    assert tabs["titles"] == list(TAB_TITLES)
    assert {"Charts", "Playground", "Alerts"} <= set(TAB_TITLES)
    (queue_status,) = _widgets_with_class(nb, "modeldeck-approvals-status")
    assert "waiting for a decision" in queue_status["value"]

    magic_cell = next(c for c in nb.cells if c.cell_type == "code" and "%deck" in c.source)
    (shown,) = [out for out in magic_cell.outputs if out.output_type == "display_data"]
    assert "$31.20" in shown.data["text/plain"]  # billing rules example 1, through the server
    assert "Upfront wins above 12 h/day" in shown.data["text/html"]

    last = nb.cells[-1].outputs[-1]
    assert last.data["text/plain"].startswith("Decimal('")  # the estimate, exact
