"""The Cost tab: the grammar's `cost` command through the deck, shown as a table in dollars."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modeldeck.domain import DeploymentRecord, DeploySpec
from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.money import format_amount
from modeldeck.results import CostResult
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.cost_view import CUSTOM
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.panel import COST_TAB

MU_MODEL = "qwen3-32b"
PTU_MODEL = "qwen3-max-2025-09-23"


def deploy_spec(words: str) -> DeploySpec:
    """The DeploySpec of a `deploy ...` line, as the grammar reads it."""
    command = parse(words)
    assert isinstance(command, DeployCommand | EstimateCommand)
    return command.spec


@pytest.fixture(scope="module")
def deployed(auto_stack: Stack) -> list[DeploymentRecord]:
    """Two deployments executed at once by the auto-approving policy."""
    deck = auto_stack.deck
    assert deck is not None
    actor = deck.resolve_actor("jupyter", "alice")
    out = []
    for words in (
        f"deploy {MU_MODEL} mu units=1 suffix=cost1",
        f"deploy {PTU_MODEL} ptu in=20k out=2k suffix=cost2",
    ):
        request = deck.request_deploy(deploy_spec(words), actor)
        assert request.deployment_id is not None, request.error
        out.append(deck.get_deployment(request.deployment_id))
    return out


@pytest.fixture(params=["in-process", "remote"])
def panel(
    request: pytest.FixtureRequest, auto_stack: Stack, deployed: list[DeploymentRecord]
) -> Iterator[DeckPanel]:
    if request.param == "remote":
        built = Deck(server=auto_stack.server_url, user="bob").wait()
    else:
        assert auto_stack.deck is not None
        built = Deck(auto_stack.deck, user="bob")
    assert built.problem is None, built.problem
    yield built
    built.close()


def _name(dep: DeploymentRecord) -> str:
    return dep.deployed_model or dep.id


def test_opening_the_tab_shows_this_months_spend(
    panel: DeckPanel, auto_stack: Stack, deployed: list[DeploymentRecord]
) -> None:
    panel.tabs.selected_index = COST_TAB
    result = panel.costs.last_result
    assert result is not None, panel.costs.html.value
    assert panel.costs.last_command == parse("cost all period=month")
    html = visible_text(panel.costs.html.value)
    assert "modeldeck-cost-table" in panel.costs.html.value and "This month" in html
    assert all(_name(d) in html for d in deployed)
    assert "reserved capacity" in html
    report = result.report
    assert report.period.name == "month"
    assert format_amount(report.total, report.currency) in html
    for dep in report.deployments:
        for line in dep.lines:
            assert format_amount(line.amount, line.currency) in html
    # the picker offers every deployment, unpublished ones included
    offered = {value for _, value in panel.costs.deployment.options}
    assert offered >= {"all", *(d.id for d in deployed)}


def test_matches_the_same_command_run_on_the_deck(
    panel: DeckPanel, auto_stack: Stack, deployed: list[DeploymentRecord]
) -> None:
    panel.tabs.selected_index = COST_TAB
    panel.costs.deployment.value = deployed[0].id
    result = panel.costs.last_result
    assert result is not None
    assert panel.costs.last_command == parse(f"cost {deployed[0].id} period=month")
    assert [d.id for d in result.report.deployments] == [deployed[0].id]
    html = panel.costs.html.value
    assert _name(deployed[0]) in html and _name(deployed[1]) not in html
    assert auto_stack.deck is not None
    again = auto_stack.deck.run(
        parse(f"cost {deployed[0].id} period=month"), auto_stack.deck.resolve_actor("cli", "x")
    )
    # accrual runs to "now", so the later run can only have grown, never shrunk
    assert isinstance(again, CostResult)
    assert again.report.total >= result.report.total > 0


@pytest.mark.parametrize(
    ("choice", "month", "name"),
    [
        ("today", "", "today"),
        ("7d", "", "7d"),
        ("month", "", "month"),
        ("last-month", "", "last-month"),
        (CUSTOM, "2026-03", "2026-03"),
    ],
)
def test_every_period_of_the_picker(panel: DeckPanel, choice: str, month: str, name: str) -> None:
    panel.costs.month.value = month
    panel.costs.period.value = choice
    panel.costs.show()
    result = panel.costs.last_result
    assert result is not None, panel.costs.html.value
    assert result.report.period.name == name
    assert panel.costs.last_command == parse(f"cost all period={name}")
    assert panel.costs.month.layout.display == (None if choice == CUSTOM else "none")


def test_a_deployment_made_now_cost_nothing_last_month(
    panel: DeckPanel, deployed: list[DeploymentRecord]
) -> None:
    panel.costs.period.value = "last-month"
    result = panel.costs.last_result
    assert result is not None
    assert result.report.total == 0
    assert "nothing billed in this period" in panel.costs.html.value
    assert "$0.00" in visible_text(panel.costs.html.value)


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3"])
def test_a_bad_month_is_explained(panel: DeckPanel, month: str) -> None:
    panel.costs.period.value = CUSTOM
    panel.costs.month.value = month
    assert panel.costs.last_result is None
    html = panel.costs.html.value
    assert "modeldeck-error" in html and "YYYY-MM" in html
    assert "Traceback" not in html
