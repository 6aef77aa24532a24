"""Every panel tab in JupyterLab in a real chromium (issue 14 items 6, 8 and 9): the happy path
of each tab, a row action (scale) and the playground (a streamed call to a RUNNING deployment);
screenshots of every tab at 1024 and 1400 px in the light and dark theme (test-artifacts/), and
the time from Run All to the panel visible in a new and a warm kernel (written, not asserted:
benchmarks/bench_panel.py --browser reports them against a baseline).

The kernel runs the core in-process (no server URL) on the stack's data directory and sandbox,
so it sees the deployment the test made and the playground can meter its call into the store.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modeldeck.domain import DeploymentRecord, DeploySpec
from modeldeck.testing import Stack
from tests.browser.lab import (
    Lab,
    LabFailed,
    cell_to_panel,
    open_notebook,
    run_lab,
    set_theme,
    write_notebook,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "tabs.ipynb"
PANEL_CELL = "from modeldeck_jupyter import Deck\n\npanel = Deck()\npanel"
# (tab title, what shows once the tab is filled in, text it must contain)
TABS: tuple[tuple[str, str, str | None], ...] = (
    ("Estimate & deploy", ".modeldeck-estimate", "$"),
    ("Deployments", ".modeldeck-deployment-row", None),
    ("Approvals", ".modeldeck-approvals-refresh", None),
    ("Compare", ".modeldeck-compare", "$"),
    ("Cost", ".modeldeck-cost", "$"),
    ("Catalog", ".modeldeck-limits-row", None),
    ("Charts", ".modeldeck-chart-spend", None),
    ("Playground", ".modeldeck-playground-send", None),
    ("Alerts", ".modeldeck-alerts", None),
)
THEMES = (("light", "JupyterLab Light"), ("dark", "JupyterLab Dark"))
WIDTHS = (1024, 1400)


@pytest.fixture(scope="module")
def ptu_stack() -> Iterator[tuple[Stack, DeploymentRecord]]:
    """A stack with one RUNNING PTU deployment (auto-approved), for the rows and the playground."""
    with Stack(policy={"auto_approve_below_usd_per_day": Decimal("100000")}) as stack:
        deck = stack.deck
        assert deck is not None
        spec = DeploySpec(
            model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000,
            suffix="lab",
        )  # fmt: skip
        record = deck.request_deploy(spec, deck.resolve_actor("jupyter", "bob"))
        assert record.deployment_id is not None, record.status
        for _ in range(100):
            deck.refresh()
            dep = deck.get_deployment(record.deployment_id)
            if str(dep.status) == "RUNNING":
                break
            time.sleep(0.1)
        assert str(dep.status) == "RUNNING"
        yield stack, dep


@pytest.fixture(scope="module")
def local_lab(
    ptu_stack: tuple[Stack, DeploymentRecord], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    stack, _ = ptu_stack
    base = tmp_path_factory.mktemp("jupyterlab-tabs")
    root = base / "notebooks"
    root.mkdir()
    write_notebook(root / NOTEBOOK, PANEL_CELL)
    env = {k: v for k, v in {**os.environ, **stack.env}.items() if k != "MODELDECK_SERVER__URL"}
    try:
        with run_lab(base, root, env, expose_app=True) as lab:
            lab.start_session(NOTEBOOK)
            yield lab
    except LabFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def open_tab(page: Page, title: str, ready: str, text: str | None) -> None:
    from playwright.sync_api import expect

    page.locator(".modeldeck-panel .lm-TabBar-tab").filter(
        has_text=re.compile(f"^{re.escape(title)}$")
    ).click()
    target = page.locator(f".modeldeck-panel {ready}").first
    expect(target).to_be_visible(timeout=60_000)
    if text is not None:
        expect(target).to_contain_text(text, timeout=60_000)


def test_every_tab_a_row_action_and_the_playground(
    local_lab: Lab,
    ptu_stack: tuple[Stack, DeploymentRecord],
    page: Page,
    artifacts: Path,
) -> None:
    from playwright.sync_api import expect

    _, dep = ptu_stack
    timings: dict[str, float] = {}
    open_notebook(page, local_lab, NOTEBOOK)
    try:
        timings["new_kernel_s"] = cell_to_panel(page)
        expect(page.locator(".modeldeck-estimate")).to_contain_text("$", timeout=60_000)
        timings["warm_kernel_s"] = cell_to_panel(page)  # the same cell again: a warm kernel
        expect(page.locator(".modeldeck-estimate")).to_contain_text("$", timeout=60_000)
        assert page.locator(".modeldeck-panel").count() == 1

        for title, ready, text in TABS:
            open_tab(page, title, ready, text)

        # a row action: scale the PTU deployment from its row; the request shows on the row
        open_tab(page, "Deployments", ".modeldeck-deployment-row", None)
        row = page.locator(".modeldeck-deployment-row", has_text=str(dep.deployed_model))
        row.locator(".modeldeck-row-scale").click()
        row.locator(".modeldeck-scale-in input").fill("20k")
        expect(row.locator(".modeldeck-scale-preview")).to_contain_text("→")
        row.locator(".modeldeck-scale-send").click()
        expect(row.locator(".modeldeck-row-status")).to_contain_text("scale request")

        # the playground: a streamed call through the metering client, its usage and cost
        open_tab(page, "Playground", ".modeldeck-playground-send", None)
        select = page.locator(".modeldeck-playground-deployment select")
        expect(select).to_contain_text(str(dep.deployed_model))
        page.locator(".modeldeck-playground-prompt textarea").fill("say hello to the lab")
        page.locator(".modeldeck-playground-send").click()
        result = page.locator(".modeldeck-playground-result")
        expect(result).to_contain_text("tokens:", timeout=60_000)
        expect(result).to_contain_text("cost:")
        expect(page.locator(".modeldeck-playground-answer")).not_to_be_empty()
        expect(page.locator(".modeldeck-panel .modeldeck-error")).to_have_count(0)
        expect(page.get_by_text("Traceback")).to_have_count(0)

        for theme, name in THEMES:
            set_theme(page, name)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for index, (title, ready, text) in enumerate(TABS):
                    open_tab(page, title, ready, text)
                    slug = re.sub(r"[^a-z]+", "-", title.lower()).strip("-")
                    page.screenshot(
                        path=str(artifacts / f"tab-{index}-{slug}-{width}px-{theme}.png")
                    )
                    panel_box = page.locator(".modeldeck-panel").bounding_box()
                    assert panel_box is not None and panel_box["width"] <= width  # reflows
                # every tab's title is read whole at this width (not cut to "Estimate & dep…")
                cut = page.evaluate(
                    """() => [...document.querySelectorAll(
                        '.modeldeck-panel .lm-TabBar-tab .lm-TabBar-tabLabel')]
                        .filter(e => e.scrollWidth > e.clientWidth + 1)
                        .map(e => e.textContent)"""
                )
                assert cut == [], f"tab titles cut at {width} px: {cut}"
    finally:
        page.screenshot(path=str(artifacts / "jupyterlab-tabs-last.png"), full_page=True)
        (artifacts / "panel-timings.json").write_text(json.dumps(timings, indent=1))
