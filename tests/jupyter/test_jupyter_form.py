"""The deploy form respects input (issue 14 item 5): the grammar reads every field as typed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text

PTU_MODEL = "qwen3-max-2025-09-23"
MU_MODEL = "qwen3-32b"


@pytest.fixture
def panel(stack: Stack) -> Iterator[DeckPanel]:
    assert stack.deck is not None
    built = Deck(stack.deck, user="alice")
    yield built
    built.close()


def _ptu(panel: DeckPanel) -> None:
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    panel.billing.value = "hourly"


def test_every_text_field_validates_as_you_type(panel: DeckPanel) -> None:
    assert panel.fields
    for widget in panel.fields.values():
        assert widget.continuous_update is True


def test_20k_is_twenty_thousand(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    _ptu(panel)
    panel.input_tpm.value = "20k"
    panel.output_tpm.value = "2k"
    panel.hours.value = "10"
    assert panel.input_tpm.value == "20k"  # as typed
    spec = panel.build_spec()
    assert (spec.input_tpm, spec.output_tpm) == (20_000, 2_000)
    assert "$31.20" in visible_text(panel.estimate_html.value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("2.5", "units=2.5 is not a whole number"), ("1e3", "units=1e3 is not a whole number")],
)
def test_a_refused_value_is_never_rewritten(panel: DeckPanel, typed: str, message: str) -> None:
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.units.value = typed
    assert panel.units.value == typed  # not 25, not 13
    assert panel.last_estimate is None
    assert message in visible_text(panel.estimate_html.value)
    with pytest.raises(Exception, match="not a whole number"):  # the grammar says the same
        parse(f"estimate {MU_MODEL} mu units={typed}")


def test_hours_take_a_duration_too(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.units.value = "1"
    panel.hours.value = "1.5h"
    assert panel.last_estimate is not None, panel.last_error
    command = parse(f"estimate {MU_MODEL} mu units=1 duration=1.5h")
    assert isinstance(command, EstimateCommand)
    assert panel.build_spec().duration_seconds == 5400
    assert panel.last_estimate.total == stack.deck.estimate(command.spec).total
    panel.hours.value = "ten"
    assert "hours=ten is not a number" in visible_text(panel.estimate_html.value)


def test_a_start_time_with_its_offset(panel: DeckPanel) -> None:
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.start.value = "2026-03-01T22:00+08:00"
    spec = panel.build_spec()
    assert spec.start is not None and spec.start.utcoffset() == timedelta(hours=8)
    panel.start.value = "tomorrow"
    assert "start=tomorrow is not an ISO time" in visible_text(panel.estimate_html.value)


@pytest.mark.parametrize("plan", ["ptu", "mu"])
def test_every_key_of_deploy_has_a_field(plan: str) -> None:
    from modeldeck_jupyter.form_fields import FIELDS

    fields = {f.key for f in FIELDS}
    covered = fields | {"billing", "mode", "reason", "auto_renew", "duration"}  # own widgets
    assert set(DeployCommand.allowed_keys(plan)) <= covered


def test_deploy_keys_reach_the_spec(panel: DeckPanel) -> None:
    _ptu(panel)
    panel.input_tpm.value = "20,000"
    panel.thinking_tpm.value = "1k"
    panel.suffix.value = "nb-7"
    panel.name.value = "launch test"
    panel.context.value = "32k"
    panel.tags.value = "team=search,cc=42"
    spec = panel.build_spec("deploy")
    assert spec.tags == {"team": "search", "cc": "42"}
    assert spec.thinking_output_tpm == 1000
    assert (spec.suffix, spec.name, spec.max_context_length) == ("nb-7", "launch test", 32_000)
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.rpm_limit.value = "60"
    panel.tpm_limit.value = "50k"
    spec = panel.build_spec("deploy")
    assert (spec.rpm_limit, spec.tpm_limit) == (60, 50_000)


def test_a_start_time_on_deploy_is_explained_not_dropped(panel: DeckPanel) -> None:
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.start.value = "2026-03-01T22:00+08:00"
    assert panel.request_deploy() is None
    assert "start" in visible_text(panel.deploy_result_html.value)


def test_a_redeploy_with_a_taken_suffix_proposes_another(auto_stack: Stack) -> None:
    assert auto_stack.deck is not None
    panel = Deck(auto_stack.deck, user="bob")
    try:
        panel.model.value = MU_MODEL
        panel.plan.value = "mu"
        panel.suffix.value = "nb1"
        first = panel.request_deploy()
        assert first is not None, panel.deploy_result_html.value
        assert str(first.status) == "executed", first.status
        panel.reason.value = "a second one"
        assert panel.request_deploy() is None
        shown = visible_text(panel.deploy_result_html.value)
        assert "Proposed suffix: 'nb1-2'" in shown
        assert panel.suffix.value == "nb1"  # proposed, not typed over
        before = len(auto_stack.deck.list_requests())
        panel.suffix.value = "nb1-2"
        assert panel.request_deploy() is not None, panel.deploy_result_html.value
        assert len(auto_stack.deck.list_requests()) == before + 1
    finally:
        panel.close()


def test_each_keystroke_is_read_by_the_grammar(panel: DeckPanel) -> None:
    """Validated as typed: every intermediate text gets an estimate or the grammar's message."""
    _ptu(panel)
    seen: list[str] = []
    for text in ("2", "20", "20k"):
        panel.input_tpm.value = text  # what a keystroke sends with continuous_update
        seen.append(panel.estimate_html.value)
        assert panel.input_tpm.value == text
    assert len(set(seen)) == 3  # the estimate followed each keystroke
    assert panel.build_spec().input_tpm == 20_000
    panel.input_tpm.value = "20k5"
    assert panel.last_estimate is None
    assert "in=20k5" in visible_text(panel.estimate_html.value)


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("tags", "team", "each tag is <key>=<value>"),
        ("suffix", "Bad_1", "is not a valid suffix"),
        ("thinking_out", "1.5k", "output TPM is bought in multiples of 1,000"),
        ("tpm_limit", "lots", "tpm_limit=lots"),
    ],
)
def test_deploy_fields_refuse_with_the_grammars_words(
    panel: DeckPanel, field: str, typed: str, message: str
) -> None:
    if field == "tpm_limit":
        panel.model.value = MU_MODEL
        panel.plan.value = "mu"
    else:
        _ptu(panel)
    panel.fields[field].value = typed
    assert panel.request_deploy() is None
    assert message in visible_text(panel.deploy_result_html.value)
    assert panel.fields[field].value == typed


def test_fields_a_plan_does_not_take_are_hidden_and_left_out(panel: DeckPanel) -> None:
    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    assert panel.input_tpm.layout.display == "none" and panel.units.layout.display is None
    panel.input_tpm.value = "not read"  # hidden: not part of the line
    assert "in=" not in panel.form_line("deploy")
    assert panel.build_spec("deploy").input_tpm is None
