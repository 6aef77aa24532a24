"""The demo notebook in JupyterLab in a real chromium: run all, the panel renders and is live."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.conftest import TeamLab as Lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_panel_renders_and_estimate_follows_the_model(
    lab: Lab, page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    waiting = lab.ask_for_deploy("alice", "deploy qwen3-32b mu units=1 suffix=lab")
    page.goto(f"{lab.url}/lab/tree/notebook.ipynb?reset&token={lab.token}")
    try:
        # The toolbar says idle before the kernel exists; the status bar names the kernel.
        expect(page.get_by_text(re.compile(r"\(ipykernel\) \| Idle"))).to_be_visible(timeout=60_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()

        estimate = page.locator(".modeldeck-estimate")
        expect(estimate).to_contain_text("$", timeout=60_000)
        expect(page.locator(".modeldeck-panel")).to_be_visible()
        expect(page.locator(".modeldeck-header")).to_contain_text(lab.server_url)
        before = estimate.inner_text()

        select = page.locator(".modeldeck-model select")
        current = select.input_value()
        labels = select.locator("option").all_inner_texts()
        other = next(label for label in labels if label != current)
        select.select_option(label=other)

        expect(estimate).to_contain_text(other)
        expect(estimate).not_to_have_text(before)
        expect(estimate).to_contain_text("$")

        # the %deck cell rendered the comparison; the panel has the approval queue tab
        expect(page.locator(".modeldeck-break-even")).to_contain_text("wins above 12 h/day")
        page.locator(".modeldeck-panel .lm-TabBar-tab", has_text="Approvals").click()
        row = page.locator(".modeldeck-approval", has_text=waiting)
        expect(row).to_contain_text("needs 1 more approval (0 of 1)")
        page.screenshot(path=str(artifacts / "jupyterlab-approvals.png"), full_page=True)
        row.locator(".modeldeck-approve").click()
        expect(page.locator(".modeldeck-approvals-result")).to_contain_text(
            f"{waiting} approved and executed"
        )
        expect(row).to_have_count(0)  # decided: it left the queue
        expect(page.locator(".modeldeck-error")).to_have_count(0)
        expect(page.get_by_text("Traceback")).to_have_count(0)
    finally:
        page.screenshot(path=str(artifacts / "jupyterlab-panel.png"), full_page=True)
