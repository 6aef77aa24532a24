"""The panel in Voila in a real chromium (issue 14 items 2 and 6): it renders, reflows at
1024 px, its Charts tab draws a PNG offline, money is not read as LaTeX, and the page asks no
host but loopback for anything (every request is recorded; an external one fails the test).

Two templates: `modeldeck` (the plugin's, Voila's lab template without its CDN stylesheets) may
ask nothing of any other host; Voila's stock `lab` template asks jsdelivr for Font Awesome 5 CSS
(refused here, as offline) and nothing else, and the panel still renders with it.

The kernel runs the core in-process (no server URL) on the stack's data directory and sandbox,
so it sees the RUNNING deployment the fixture made and the charts have data to draw.
Screenshots at 1024 and 1400 px go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from modeldeck.domain import DeploymentRecord, DeploySpec
from modeldeck.testing import Stack
from tests.browser.lab import write_notebook
from tests.browser.voila import Voila, VoilaFailed, run_voila

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANEL_CELL = "from modeldeck_jupyter import Deck\n\nDeck()"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# what Voila's own lab template links (the panel's icons come from Voila's bundled Font Awesome 4)
STOCK_CDN = {
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/v4-shims.min.css",
}
ALLOWED_EXTERNAL = {"modeldeck": set[str](), "lab": STOCK_CDN}
PNG_HEAD = """async img => Array.from(
    new Uint8Array(await (await fetch(img.src)).arrayBuffer()).slice(0, 8))"""
MATH = "mjx-container, .MathJax, .MathJax_Preview, .katex, script[type^='math/tex']"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Stack, DeploymentRecord]]:
    """A stack with one RUNNING PTU deployment (auto-approved): the charts' data."""
    with Stack(policy={"auto_approve_below_usd_per_day": Decimal("100000")}) as stack:
        deck = stack.deck
        assert deck is not None
        spec = DeploySpec(
            model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000,
            suffix="voila",
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


@pytest.fixture(params=sorted(ALLOWED_EXTERNAL))
def voila(
    request: pytest.FixtureRequest,
    running: tuple[Stack, DeploymentRecord],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Voila]:
    stack, _ = running
    template = str(request.param)
    base = tmp_path_factory.mktemp(f"voila-{template}")
    notebook = write_notebook(base / "panel.ipynb", PANEL_CELL)
    env = {k: v for k, v in {**os.environ, **stack.env}.items() if k != "MODELDECK_SERVER__URL"}
    try:
        with run_voila(base, notebook, env, template=template) as server:
            yield server
    except VoilaFailed as exc:
        pytest.fail(str(exc), pytrace=False)


def is_external(url: str) -> bool:
    """A request that would leave the machine (blob:/data: URLs and loopback stay here)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOOPBACK


def test_panel_renders_in_voila_offline_and_reflows(
    voila: Voila, running: tuple[Stack, DeploymentRecord], page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _, dep = running
    shot = f"voila-{voila.template}"
    external: list[str] = []

    def refuse(route: Route) -> None:
        external.append(route.request.url)
        route.abort()

    # Record every request; one that would leave loopback is refused (and fails the test below),
    # so a CDN that would answer elsewhere cannot make the page look right here.
    page.route(lambda url: is_external(url), refuse)
    page.on("request", lambda req: external.append(req.url) if is_external(req.url) else None)
    page.on("websocket", lambda ws: external.append(ws.url) if is_external(ws.url) else None)

    page.set_viewport_size({"width": 1024, "height": 900})
    try:
        page.goto(voila.page_url)
        panel = page.locator(".modeldeck-panel")
        expect(panel).to_be_visible(timeout=60_000)
        estimate = page.locator(".modeldeck-estimate")
        expect(estimate).to_contain_text("$", timeout=60_000)
        assert re.search(r"\$\s?\d", estimate.inner_text()), estimate.inner_text()
        expect(page.locator(f".modeldeck-panel :is({MATH})")).to_have_count(0)
        expect(page.get_by_text("Traceback")).to_have_count(0)

        # reflows at 1024 px: nothing wider than the window, the panel within it
        box = panel.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1024, box
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow} px of horizontal overflow at 1024 px"
        page.screenshot(path=str(artifacts / f"{shot}-estimate-1024px.png"), full_page=True)

        # the Charts tab draws a PNG once a deployment is chosen
        page.locator(".modeldeck-panel .lm-TabBar-tab").filter(
            has_text=re.compile(r"^Charts$")
        ).click()
        picker = page.locator(".modeldeck-charts-deployment select")
        expect(picker).to_contain_text(str(dep.deployed_model), timeout=60_000)
        value = picker.locator("option", has_text=str(dep.deployed_model)).first.get_attribute(
            "value"
        )
        assert value is not None
        picker.select_option(value=value)
        image = page.locator(".modeldeck-chart-spend img, img.modeldeck-chart-spend").first
        expect(image).to_be_visible(timeout=60_000)
        src = image.get_attribute("src") or ""
        assert src.startswith(("data:image/png", "blob:")), src[:80]
        drawn = image.evaluate("img => img.complete && img.naturalWidth > 0")
        assert drawn, "the chart's <img> did not decode"
        head = image.evaluate(PNG_HEAD)  # the bytes themselves: a PNG, from the widget state
        assert head == list(b"\x89PNG\r\n\x1a\n"), head
        page.screenshot(path=str(artifacts / f"{shot}-charts-1024px.png"), full_page=True)

        page.set_viewport_size({"width": 1400, "height": 900})
        expect(image).to_be_visible()
        page.screenshot(path=str(artifacts / f"{shot}-charts-1400px.png"), full_page=True)
        page.locator(".modeldeck-panel .lm-TabBar-tab").filter(
            has_text=re.compile(r"^Estimate")
        ).click()
        expect(estimate).to_be_visible()
        page.screenshot(path=str(artifacts / f"{shot}-estimate-1400px.png"), full_page=True)
        expect(page.locator(".modeldeck-panel .modeldeck-error")).to_have_count(0)
    finally:
        page.screenshot(path=str(artifacts / f"{shot}-last.png"), full_page=True)
    unexpected = set(external) - ALLOWED_EXTERNAL[voila.template]
    assert not unexpected, f"requests left loopback: {sorted(unexpected)}"
