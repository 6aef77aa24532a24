"""The Playground tab (issue 14 item 3): a prompt to a RUNNING deployment, streamed through the
metering client against the sandbox over HTTP; tokens, latency, overflow and cost shown, and the
call lands in `cost`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from modeldeck.domain import DeploymentRecord, DeploySpec
from modeldeck.testing import Stack
from modeldeck.timeutil import BEIJING, utcnow
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.panel import PLAYGROUND_TAB
from modeldeck_jupyter.playground import max_tokens, stats_html

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# The sandbox clock nearly frozen on a minute boundary: every call lands in one admission minute,
# so a small output TPM overflows after a few calls.
FROZEN = {"clock_speed": 1e-6, "start_time": datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)}
AUTO = {"auto_approve_below_usd_per_day": Decimal("100000")}
BUDGET = {"name": "llm-team", "scope": "workspace", "amount_usd": "5000"}


@pytest.fixture(scope="module")
def frozen_stack() -> Iterator[Stack]:
    with Stack(
        deploy_delay_seconds=0, sandbox_options=FROZEN, policy=AUTO, budgets=[BUDGET]
    ) as running:
        yield running


def running_ptu(stack: Stack, suffix: str = "play") -> DeploymentRecord:
    assert stack.deck is not None
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000, suffix=suffix
    )
    record = stack.deck.request_deploy(spec, stack.deck.resolve_actor("jupyter", "bob"))
    assert record.deployment_id is not None, record.status
    for _ in range(100):
        stack.deck.refresh()
        dep = stack.deck.get_deployment(record.deployment_id)
        if str(dep.status) == "RUNNING":
            return dep
        time.sleep(0.1)
    raise AssertionError(f"{record.deployment_id} never ran")


@pytest.fixture
def panel(frozen_stack: Stack) -> Iterator[DeckPanel]:
    assert frozen_stack.deck is not None
    built = Deck(frozen_stack.deck, user="bob", auto_refresh=False)
    yield built
    built.close()


def test_a_streamed_call_shows_tokens_cost_and_lands_in_cost(
    panel: DeckPanel, frozen_stack: Stack
) -> None:
    deck = frozen_stack.deck
    assert deck is not None and panel.problem is None, panel.problem
    dep = running_ptu(frozen_stack)
    panel.tabs.selected_index = PLAYGROUND_TAB  # opening the tab offers the RUNNING ones
    offered = [value for _, value in panel.playground.deployment.options]
    assert dep.deployed_model in offered
    assert panel.playground.deployment.value == offered[0]  # one is chosen, not just shown
    panel.playground.deployment.value = dep.deployed_model
    panel.playground.prompt.value = "count the words in this sentence please"
    panel.playground.max_tokens.value = "400"
    shown: list[str] = []
    panel.playground.output_html.observe(lambda c: shown.append(c["new"]), names="value")

    records = []
    for _ in range(6):
        panel.playground.send_button.click()
        record = panel.playground.last_record
        assert record is not None, panel.playground.last_error
        records.append(record)
        if record.overflow:
            break
    first = records[0]
    assert first.input_tokens > 0 and first.output_tokens > 0 and first.latency_ms > 0
    assert len([s for s in shown if s]) > 2  # the answer grew chunk by chunk: it streamed
    assert panel.playground.answer and panel.playground.answer in visible_text(shown[-1])
    stats = visible_text(panel.playground.stats_html.value)
    last = records[-1]
    assert f"{last.input_tokens:,} in · {last.output_tokens:,} out" in stats
    assert "latency:" in stats and "cost:" in stats
    assert last.overflow, "1,000 output TPM: a later call spills over"
    assert "overflow: yes" in stats and "pay-as-you-go" in stats
    assert last.cost is not None and last.cost > 0
    assert not first.overflow and first.cost == 0
    assert "no extra cost" in visible_text(stats_html(first))

    report = deck.cost(dep.id, "all")
    overflowed = sum((r.cost or Decimal(0) for r in records if r.overflow), Decimal(0))
    assert report.deployments[0].by_kind["overflow"] == overflowed > 0


def test_refusals_are_messages(panel: DeckPanel) -> None:
    panel.playground.deployment.options = []
    panel.playground.send()
    assert "Choose a RUNNING deployment" in (panel.playground.last_error or "")
    with pytest.raises(Exception, match="whole number of 1 or more"):
        max_tokens("2.5")
    assert max_tokens("1k") == 1000


def test_team_mode_streams_through_the_servers_metering_client(frozen_stack: Stack) -> None:
    """In team mode the server makes the metered call and streams the events back (NDJSON)."""
    from modeldeck.server.client import RemoteDeck

    deck = frozen_stack.deck
    assert deck is not None
    dep = running_ptu(frozen_stack, "team")
    remote = Deck(RemoteDeck(frozen_stack.server_url), user="bob", auto_refresh=False)
    try:
        remote.tabs.selected_index = PLAYGROUND_TAB
        remote.playground.deployment.value = dep.deployed_model
        remote.playground.prompt.value = "one two three"
        shown: list[str] = []
        remote.playground.output_html.observe(lambda c: shown.append(c["new"]), names="value")
        record = remote.playground.send()
        assert record is not None, remote.playground.last_error
        assert record.input_tokens == 3 and record.output_tokens > 0
        assert len([s for s in shown if s]) > 2  # streamed through the server
        assert "tokens: 3 in" in visible_text(remote.playground.stats_html.value)
        with deck.store.session() as session:  # the server's store has the call
            from sqlalchemy import select

            from modeldeck.store.models import UsageCallRow

            rows = list(
                session.scalars(
                    select(UsageCallRow).where(UsageCallRow.deployed_model == dep.deployed_model)
                )
            )
        assert len(rows) == 1 and rows[0].input_tokens == 3
        # the charts' data travels too: the same usage chart over REST as in-process
        until = utcnow() + timedelta(minutes=1)
        since = until - timedelta(hours=1)
        remote_deck = remote.deck
        assert remote_deck is not None
        over_rest = remote_deck.usage_chart(dep.id, since, until)
        assert over_rest == deck.usage_chart(dep.id, since, until)
        assert sum(over_rest.input_tokens) == 3 and over_rest.purchased_tpm == 10000
        remote.playground.deployment.options = [("gone", "no-such-deployment")]
        remote.playground.deployment.value = "no-such-deployment"
        assert remote.playground.send() is None
        assert "no-such-deployment" in (remote.playground.last_error or "")
    finally:
        remote.close()


@pytest.mark.slow  # 7 s: matplotlib's first import and five charts drawn
def test_charts_draw_usage_spend_and_plan_with_the_core_module(
    panel: DeckPanel, frozen_stack: Stack
) -> None:
    """Issue 14 item 2: usage per minute vs purchased TPM, spend with forecast (and against a
    budget), the planner's curve and recommendation; PNG bytes in the widgets (offline)."""
    from modeldeck.charts.data import CostCurveChart, SpendChart, UsageChart
    from modeldeck_jupyter.panel import CHARTS_TAB

    deck = frozen_stack.deck
    assert deck is not None
    dep = running_ptu(frozen_stack, "chart")
    panel.tabs.selected_index = PLAYGROUND_TAB
    panel.playground.deployment.value = dep.deployed_model
    panel.playground.prompt.value = "one two three four five"
    records = [panel.playground.send() for _ in range(3)]
    assert all(r is not None for r in records), panel.playground.last_error

    panel.tabs.selected_index = CHARTS_TAB
    charts = panel.charts
    charts.deployment.value = dep.id  # redraws
    assert not charts.errors, charts.errors
    usage, spend, plan = charts.charts["usage"], charts.charts["spend"], charts.charts["plan"]
    assert isinstance(usage, UsageChart) and usage.purchased_tpm == 10000
    assert sum(usage.input_tokens) == sum(r.input_tokens for r in records if r is not None)
    assert isinstance(spend, SpendChart) and spend.budget is None
    forecast = deck.forecast(dep.id, "month").forecasts[0]
    assert spend.forecast[-1].amount == forecast.total
    assert spend.actual[-1].amount == forecast.to_date
    assert isinstance(plan, CostCurveChart) and plan.points and plan.recommended is not None
    assert "Recommended:" in charts.notes["plan"].value
    for image in charts.images.values():
        assert bytes(image.value).startswith(PNG_MAGIC) and image.layout.display is None

    charts.budget.value = "llm-team"  # the budget's daily spend, forecast and line
    budget = charts.charts["spend"]
    assert isinstance(budget, SpendChart) and budget.budget == Decimal("5000")
    assert budget.forecast and budget.actual
    light = bytes(charts.images["spend"].value)
    charts.theme.value = "dark"
    assert bytes(charts.images["spend"].value) != light  # redrawn in the dark palette
