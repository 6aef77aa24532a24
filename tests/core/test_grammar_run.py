"""Parsed once, run typed: commands, results, their single sources of truth, and the CLI's
store-free verbs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from modeldeck import render
from modeldeck.domain import (
    Decision,
    DeploymentRecord,
    DeploySpec,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
    ScaleSpec,
)
from modeldeck.errors import GrammarError
from modeldeck.grammar import KEYS, all_verbs, help_text, parse, validate_command
from modeldeck.grammar.commands import DeployCommand, EstimateCommand
from modeldeck.rendering import render as render_result
from modeldeck.results import ComparisonResult, EstimateResult, HelpResult, result_from_json

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _request(decisions: list[Decision], required: int = 2) -> RequestRecord:
    return RequestRecord(
        id="req_1",
        kind="deploy",
        status=RequestStatus.PENDING,
        requester="alice",
        surface="cli",
        deploy=DeploySpec(model="qwen3-32b", plan="mu", units=1),
        policy=PolicyDecision(auto_approve=False, approvers_required=required, rule="two"),
        decisions=decisions,
        created_at=NOW,
    )


def _vote(who: str) -> Decision:
    return Decision(principal=who, surface="cli", verdict="approve", at=NOW)


def test_the_requester_is_never_counted_and_each_approver_counts_once() -> None:
    request = _request([_vote("alice"), _vote("bob"), _vote("bob")])
    assert request.approvers == ["bob"]
    assert (request.approvals_so_far, request.approvals_required) == (1, 2)
    assert request.approvals_remaining == 1
    # the core's text said "needs 0 more" here: it counted the requester's own vote
    assert "needs 1 more approval(s)" in render.request_text(request)


@pytest.mark.parametrize("verb", sorted(all_verbs()))
def test_help_lists_exactly_the_keys_the_model_allows(verb: str) -> None:
    info = all_verbs()[verb]
    listed = [
        line.split("=", 1)[0].strip()
        for line in help_text(verb).split("Options:")[-1].split("Examples:")[0].splitlines()
        if "=" in line
    ]
    assert listed == list(info.allowed_keys())
    assert all(key in KEYS for key in listed)


@pytest.mark.parametrize("plan", ["ptu", "mu"])
@pytest.mark.parametrize("model", [EstimateCommand, DeployCommand])
def test_the_allowed_list_in_errors_is_the_models(
    plan: str, model: type[EstimateCommand | DeployCommand]
) -> None:
    verb = "estimate" if model is EstimateCommand else "deploy"
    with pytest.raises(GrammarError) as raised:
        parse(f"{verb} qwen3-32b {plan} in=20k units=1 bogus=1")
    assert f"Allowed: {', '.join(model.allowed_keys(plan))}." in str(raised.value)


def test_cli_completion_offers_the_models_keys() -> None:
    from modeldeck.cli import _complete_words

    offered = [item.value for item in _complete_words("scale")(None, None, "")]
    assert offered == [f"{k}=" for k in all_verbs()["scale"].allowed_keys()]
    assert [i.value for i in _complete_words("cost")(None, None, "pe")] == ["period="]


def test_a_command_round_trips_as_json_and_bad_json_is_a_grammar_error() -> None:
    command = parse('deploy qwen3-32b mu units=2 reason="launch week"')
    assert validate_command(command.model_dump(mode="json")) == command
    with pytest.raises(GrammarError, match=r"spec\.plan"):
        validate_command({"verb": "estimate", "spec": {"model": "x", "plan": "gpu"}})
    with pytest.raises(GrammarError, match="Unknown command 'launch'"):
        validate_command({"verb": "launch"})


def test_capacity_is_worded_once_for_every_surface() -> None:
    spec = DeploySpec(model="m", plan="ptu", input_tpm=20_000, output_tpm=2_000)
    dep = DeploymentRecord(
        id="d", model="m", plan="ptu", status="RUNNING", input_tpm=20_000, output_tpm=2_000,
        thinking_output_tpm=1_000, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    assert spec.capacity == "20,000 in / 2,000 out TPM"
    assert dep.capacity == "20,000 in / 2,000 out TPM / 1,000 thinking"
    scale = _request([]).model_copy(
        update={"deploy": None, "kind": "scale", "scale": ScaleSpec(deployment="d", units=3)}
    )
    assert scale.summary == "scale d to 3 unit(s)"


def test_the_comparison_verdict_is_computed_on_the_result() -> None:
    from modeldeck.commands import run_without_store
    from modeldeck.settings import load_settings

    text = "compare qwen3-max-2025-09-23 ptu in=20k out=2k hours_per_day=14 days=30"
    result = run_without_store(parse(text), load_settings())
    assert isinstance(result, ComparisonResult) and result.verdict is not None
    assert result.verdict.headline == "Upfront wins above 12 h/day"
    assert result.verdict.detail == "At 14 h/day upfront is cheaper by $187.20 per 30 days."
    # and the typed result travels as JSON, read back by its kind
    again = result_from_json(result.model_dump(mode="json"))
    assert isinstance(again, ComparisonResult) and again.estimate.total == result.estimate.total


def test_every_result_renders_as_text() -> None:
    assert render_result(HelpResult(topic="cost"), "text").startswith("Usage: cost")
    est = parse("estimate qwen3-32b mu units=2 duration=90m30s")
    from modeldeck.commands import run_without_store
    from modeldeck.settings import load_settings

    result = run_without_store(est, load_settings())
    assert isinstance(result, EstimateResult) and "$121.33" in result.text


@pytest.mark.parametrize(
    "args",
    [
        ["help"],
        ["help", "estimate"],
        ["models"],
        ["estimate", "qwen3-32b", "mu", "units=2", "duration=90m30s"],
        ["compare", "qwen3-max-2025-09-23", "ptu", "in=20k", "out=2k", "hours_per_day=14"],
    ],
)
def test_help_models_estimate_and_compare_open_no_store(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in-process with a data dir that does not exist and a database that cannot be reached:
    they answer, and nothing is created (old main opened and migrated a store for each)."""
    from modeldeck.cli import build_cli

    data_dir = tmp_path / "never-created"
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MODELDECK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    out = CliRunner().invoke(build_cli(), [*args, "--json"] if args[0] != "help" else args)
    assert out.exit_code == 0, out.output
    assert not data_dir.exists()
