"""The Compare tab: the core's comparison of the form's plan for hours a day, with break-even."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from modeldeck.domain import DeploySpec
from modeldeck.errors import UserError
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.panel import COMPARE_TAB, FORM_TAB
from modeldeck_jupyter.render import esc

PTU_MODEL = "qwen3-max-2025-09-23"
MU_MODEL = "qwen3-32b"


@pytest.fixture(params=["in-process", "remote"])
def panel(request: pytest.FixtureRequest, stack: Stack) -> Iterator[DeckPanel]:
    if request.param == "remote":
        built = Deck(server=stack.server_url, user="alice").wait()
    else:
        assert stack.deck is not None
        built = Deck(stack.deck, user="alice")
    assert built.problem is None, built.problem
    yield built
    built.close()


def _ptu_20k_2k(panel: DeckPanel) -> None:
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    panel.input_tpm.value = "20_000"
    panel.output_tpm.value = "2_000"


def test_ptu_comparison_matches_the_core_and_names_the_break_even(
    panel: DeckPanel, stack: Stack
) -> None:
    _ptu_20k_2k(panel)
    panel.compare.hours_per_day.value = "14"
    panel.tabs.selected_index = COMPARE_TAB
    html = panel.compare.html.value
    assert "Upfront wins above 12 h/day" in html  # 1 prepaid day = 12 hourly hours here
    assert stack.deck is not None
    spec = DeploySpec(
        model=PTU_MODEL,
        plan="ptu",
        input_tpm=20_000,
        output_tpm=2_000,
        compare=True,
        hours_per_day=Decimal(14),
    )
    rows = stack.deck.estimate(spec).comparison
    assert rows is not None and [r["billing"] for r in rows] == ["hourly", "upfront"]
    for row in rows:
        assert format_amount(Decimal(row["per_day"]), row["currency"]) in visible_text(html)
        assert format_amount(Decimal(row["per_30_days"]), row["currency"]) in visible_text(html)
    cheaper = next(r for r in rows if r["cheaper"])
    assert cheaper["billing"] == "upfront"
    saving = Decimal(rows[0]["per_30_days"]) - Decimal(rows[1]["per_30_days"])
    assert (
        f"At 14 h/day upfront is cheaper by {format_amount(saving)} per 30 days."
        in visible_text(html)
    )
    assert "modeldeck-compare-upfront' style='font-weight:bold;'" in html
    assert "Per day at 14 h/day" in html


def test_fewer_hours_make_hourly_cheaper(panel: DeckPanel) -> None:
    _ptu_20k_2k(panel)
    panel.tabs.selected_index = COMPARE_TAB
    panel.compare.hours_per_day.value = "10"
    estimate = panel.compare.last_estimate
    assert estimate is not None and estimate.comparison is not None
    assert [r["billing"] for r in estimate.comparison if r["cheaper"]] == ["hourly"]
    assert "At 10 h/day hourly is cheaper by" in panel.compare.html.value
    assert "Upfront wins above 12 h/day" in panel.compare.html.value


def test_mu_compares_hourly_with_monthly(panel: DeckPanel) -> None:
    panel.model.value = MU_MODEL
    panel.units.value = "1"
    panel.compare.hours_per_day.value = "8"
    panel.tabs.selected_index = COMPARE_TAB
    html = panel.compare.html.value
    # $18,800 a month is $626.67 a day; at $40 an hour that is 15.67 hours.
    assert "Monthly wins above 15.67 h/day" in html
    assert "Monthly (package)" in visible_text(html) and "$18,800.00" in visible_text(html)
    assert "$320.00" in visible_text(html)  # 8 hours × $40


def test_the_form_drives_the_comparison(panel: DeckPanel) -> None:
    _ptu_20k_2k(panel)
    panel.tabs.selected_index = COMPARE_TAB
    first = panel.compare.html.value
    panel.input_tpm.value = "40_000"  # changed while the tab is shown: it follows at once
    assert panel.compare.html.value != first
    assert "40,000 in / 2,000 out TPM" in panel.compare.subject_html.value
    panel.tabs.selected_index = FORM_TAB
    shown = panel.compare.html.value
    panel.model.value = MU_MODEL  # changed elsewhere: stale until the tab opens again
    assert panel.compare.stale and panel.compare.html.value == shown
    panel.tabs.selected_index = COMPARE_TAB
    assert not panel.compare.stale
    assert MU_MODEL in panel.compare.html.value


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        ("25", "hours_per_day=25 is too large: at most 24."),
        ("0", "hours_per_day=0 must be more than zero."),
        ("-3", "is not a number: write e.g. hours_per_day=10"),
        ("ten", "is not a number: write e.g. hours_per_day=10"),
        ("", "is not a number: write e.g. hours_per_day=10"),
        ("1,2,0", "has misplaced commas"),
    ],
)
def test_bad_hours_a_day_are_explained(panel: DeckPanel, hours: str, why: str) -> None:
    """The tab reads hours a day with the grammar's reader, so it says what `%deck` says."""
    _ptu_20k_2k(panel)
    panel.compare.hours_per_day.value = hours
    panel.compare.compare_button.click()
    assert panel.compare.last_estimate is None
    html = panel.compare.html.value
    assert "modeldeck-error" in html
    assert why in html
    assert "Traceback" not in html


def test_an_invalid_capacity_shows_the_decks_error(panel: DeckPanel, stack: Stack) -> None:
    _ptu_20k_2k(panel)
    panel.input_tpm.value = "15_000"
    panel.compare.update()
    assert stack.deck is not None
    with pytest.raises(UserError) as raised:
        stack.deck.estimate(panel.capacity_spec().model_copy(update={"compare": True}))
    assert esc(str(raised.value)) in panel.compare.html.value
