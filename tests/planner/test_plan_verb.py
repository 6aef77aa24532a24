"""The `plan` verb: parsed once, run through the CLI (no store for a CSV), the deck and REST,
with `--json` giving the planner's fields and bad traces reported, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from modeldeck.cli import build_cli
from modeldeck.deck import Deck
from modeldeck.domain import Actor
from modeldeck.errors import GrammarError, UserError
from modeldeck.grammar import PlanCommand, parse, validate_command
from modeldeck.planner.spec import PlanSpec
from modeldeck.results import CapacityPlanResult
from modeldeck.server.client import RemoteDeck
from modeldeck.settings import load_settings
from modeldeck.store.models import DeploymentRow, UsageMinuteRow
from modeldeck.testing import Stack

MODEL = "qwen3-max-2025-09-23"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing
MIN = timedelta(minutes=1)
ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])


def csv_text(minutes: int = 120) -> str:
    """Two hours of traffic: 45k input / 1.5k output TPM in the first hour, 15k / 500 after."""
    lines = ["minute,input_tokens,output_tokens"]
    for i in range(minutes):
        busy = i < 60
        at = (T0 + i * MIN).isoformat()
        lines.append(f"{at},{45_000 if busy else 15_000},{1_500 if busy else 500}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(csv_text())
    return path


@pytest.fixture
def bad_trace(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    rows = csv_text(5).splitlines()
    rows[2] = rows[2].replace("45000", "-3")  # line 3: negative
    rows.append(rows[4])  # line 7 repeats line 5
    path.write_text("\n".join(rows) + "\n")
    return path


# --- grammar ------------------------------------------------------------------------------------


def test_plan_parses_into_its_command_model() -> None:
    cmd = parse(f"plan {MODEL} trace=usage.csv coverage=95% options=hourly,upfront")
    assert isinstance(cmd, PlanCommand)
    assert cmd.spec == PlanSpec(
        model=MODEL, trace="usage.csv", coverage=Decimal("0.95"), options=["hourly", "upfront"]
    )
    assert cmd.spec.source == "csv" and not cmd.apply
    cmd = parse(f"plan {MODEL} deployment=chat period=7d apply option=hourly")
    assert isinstance(cmd, PlanCommand)
    assert cmd.apply and cmd.option == "hourly" and cmd.spec.source == "metering"
    assert parse(f"plan {MODEL} prometheus").spec.source == "prometheus"  # type: ignore[attr-defined]
    # the same command arrives as JSON on the server
    assert validate_command(cmd.model_dump(mode="json")) == cmd


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"plan {MODEL}", "needs a trace"),
        (f"plan {MODEL} trace=a.csv deployment=chat", "not both"),
        (f"plan {MODEL} trace=a.csv prometheus", "not both"),
        (f"plan {MODEL} trace=a.csv period=7d", "planned whole"),
        (f"plan {MODEL} trace=a.csv option=hourly", "apply"),
        (f"plan {MODEL} trace=a.csv coverage=1.5", "fraction from 0 to 1"),
        (f"plan {MODEL} trace=a.csv options=hourly,weekly", "not a planner option"),
        (f"plan {MODEL} trace=a.csv units=2", "Allowed: trace, deployment"),
        (f"plan {MODEL} trace=a.csv later", "'prometheus' and 'apply'"),
        ("plan trace=a.csv", "Expected a model"),
    ],
)
def test_bad_plan_commands_say_what_is_allowed(text: str, says: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse(text)
    assert says in str(info.value)


# --- CLI: a CSV plan opens no store -------------------------------------------------------------


def test_cli_plan_of_a_csv_opens_no_store_and_json_has_the_fields(
    trace_file: Path, isolated_env: Path
) -> None:
    runner = CliRunner()
    args = ["plan", MODEL, f"trace={trace_file}", "coverage=0.9", "--json"]
    result = runner.invoke(build_cli(), args)
    assert result.exit_code == 0, result.stderr
    assert not isolated_env.exists()  # no data dir: nothing opened or migrated a store
    data = json.loads(result.stdout)
    assert data["model"] == MODEL and data["coverage"] == "0.9"
    names = [opt["option"] for opt in data["options"]]
    assert {"payg", "hourly", "upfront", "schedule"} <= set(names)
    hourly = next(opt for opt in data["options"] if opt["option"] == "hourly")
    for field in ("billing", "input_tpm", "output_tpm", "reserved", "overflow", "total"):
        assert hourly[field] is not None, field
    assert all(isinstance(hourly[k], str) for k in ("reserved", "overflow", "total"))
    Decimal(hourly["total"])
    assert hourly["input_tpm"] % 10_000 == 0 and hourly["output_tpm"] % 1_000 == 0
    assert hourly["reasoning"] and data["recommended"] != "payg"
    # the rich rendering shows the ranked table and the reasoning
    shown = runner.invoke(build_cli(), ["plan", MODEL, f"trace={trace_file}", "coverage=0.9"])
    assert shown.exit_code == 0, shown.stderr
    assert "hourly" in shown.stdout and "reserved" in shown.stdout and "┏" in shown.stdout
    assert not isolated_env.exists()


def test_cli_bad_trace_gets_the_trace_report(bad_trace: Path, isolated_env: Path) -> None:
    result = CliRunner().invoke(build_cli(), ["plan", MODEL, f"trace={bad_trace}"])
    assert result.exit_code == 2
    assert "line 3" in result.stderr and "line 7" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not isolated_env.exists()


def test_cli_missing_trace_file_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_cli(), ["plan", MODEL, f"trace={tmp_path / 'nope.csv'}"])
    assert result.exit_code == 2 and "nope.csv" in result.stderr
    assert "Traceback" not in result.stderr


# --- settings -----------------------------------------------------------------------------------


def test_planner_settings_give_the_coverage_default_and_hold_the_secret(
    trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELDECK_PLANNER__COVERAGE", "0.8")
    monkeypatch.setenv("MODELDECK_PLANNER__ACCESS_KEY_SECRET", "prom-secret-value-123")
    settings = load_settings()
    assert settings.planner.coverage == Decimal("0.8")
    assert "prom-secret-value-123" not in repr(settings.planner)
    result = CliRunner().invoke(build_cli(), ["plan", MODEL, f"trace={trace_file}", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["coverage"] == "0.8"


def test_prometheus_without_configuration_says_what_to_set() -> None:
    result = CliRunner().invoke(build_cli(), ["plan", MODEL, "prometheus"])
    assert result.exit_code == 2
    assert "prometheus_url" in result.stderr and "access_key_id" in result.stderr


# --- the deck: metering, today's capacity, apply -------------------------------------------------


@pytest.fixture
def deck(tmp_path: Path) -> Iterator[Deck]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'deck.db'}")
    deck = Deck(settings)
    with deck.store.session() as session:
        session.add(
            DeploymentRow(
                id="dep-1", deployed_model="qwen3-max-ptu-a1", name="chat", model=MODEL,
                plan="ptu", status="RUNNING", input_tpm=50_000, output_tpm=2_000,
                created_at=T0, updated_at=T0,
            )
        )  # fmt: skip
        for i in range(120):
            busy = i < 60
            session.add(
                UsageMinuteRow(
                    deployed_model="qwen3-max-ptu-a1", minute=T0 + i * MIN, calls=1,
                    input_tokens=45_000 if busy else 15_000, output_tokens=1_500 if busy else 500,
                )
            )  # fmt: skip
        session.commit()
    yield deck
    deck.close()


def plan_command(text: str) -> PlanCommand:
    cmd = parse(text)
    assert isinstance(cmd, PlanCommand)
    return cmd


def test_plan_of_a_deployment_reads_its_metering_and_compares_with_today(deck: Deck) -> None:
    cmd = plan_command(
        f"plan {MODEL} deployment=chat period=2026-03-01T10:00+08:00..2026-03-01T12:00+08:00 "
        "coverage=0.9"
    )
    result = deck.run(cmd, ALICE)
    assert isinstance(result, CapacityPlanResult) and result.request is None
    assert result.plan.trace.minutes == 120 and result.plan.trace.input_tokens == 3_600_000
    assert result.plan.current is not None and result.plan.current.input_tpm == 50_000
    hourly = result.plan.option("hourly")
    assert hourly.saving_vs_current is not None
    assert result.deployment == "qwen3-max-ptu-a1"


def test_apply_on_a_deployment_is_a_pending_scale_priced_at_the_reserved_cost(deck: Deck) -> None:
    cmd = plan_command(
        f"plan {MODEL} deployment=chat period=2026-03-01T10:00+08:00..2026-03-01T12:00+08:00 "
        "coverage=0.9 apply option=hourly"
    )
    result = deck.run(cmd, ALICE)
    assert isinstance(result, CapacityPlanResult) and result.request is not None
    request = result.request
    hourly = result.plan.option("hourly")
    assert request.kind == "scale" and request.status == "pending"
    assert request.scale is not None and request.deployment_id == "dep-1"
    assert (request.scale.input_tpm, request.scale.output_tpm) == (
        hourly.input_tpm,
        hourly.output_tpm,
    )
    assert request.estimate is not None and hourly.reserved is not None
    assert request.estimate.total == hourly.reserved
    assert "hourly option" in (request.reason or "")


def test_apply_without_a_deployment_is_a_pending_deploy(trace_file: Path, deck: Deck) -> None:
    result = deck.run(plan_command(f"plan {MODEL} trace={trace_file} apply option=upfront"), ALICE)
    assert isinstance(result, CapacityPlanResult) and result.request is not None
    request, upfront = result.request, result.plan.option("upfront")
    assert request.kind == "deploy" and request.status == "pending"
    assert request.deploy is not None and request.deploy.billing == "upfront"
    assert request.deploy.input_tpm == upfront.input_tpm and request.deploy.days == 1
    assert request.estimate is not None and request.estimate.total == upfront.reserved


@pytest.mark.parametrize(
    ("option", "says"), [("payg", "reserves nothing"), ("schedule", "by the hour")]
)
def test_apply_refuses_options_that_are_no_single_request(
    trace_file: Path, deck: Deck, option: str, says: str
) -> None:
    with pytest.raises(UserError, match=says):
        deck.run(plan_command(f"plan {MODEL} trace={trace_file} apply option={option}"), ALICE)
    assert deck.list_requests() == []


def test_apply_refuses_a_billing_change(deck: Deck) -> None:
    cmd = plan_command(
        f"plan {MODEL} deployment=chat period=2026-03-01T10:00+08:00..2026-03-01T12:00+08:00 "
        "apply option=upfront"
    )
    with pytest.raises(UserError, match="billing method cannot change"):
        deck.run(cmd, ALICE)


# --- REST: RemoteDeck sends the file's text; bad traces are a 4xx with the report ----------------


@pytest.mark.slow
def test_plan_over_rest(trace_file: Path, bad_trace: Path) -> None:
    with Stack() as stack:
        remote = RemoteDeck(stack.server_url)
        try:
            spec = PlanSpec(model=MODEL, trace=str(trace_file), coverage=Decimal("0.9"))
            planned = remote.plan(spec)
            assert planned.recommended is not None and planned.trace.minutes == 120
            ran = remote.run(plan_command(f"plan {MODEL} trace={trace_file}"), ALICE)
            assert isinstance(ran, CapacityPlanResult) and ran.plan.trace.minutes == 120
            with pytest.raises(UserError) as info:  # a TraceError, as its nearest known class
                remote.run(plan_command(f"plan {MODEL} trace={bad_trace}"), ALICE)
            assert "line 3" in str(info.value) and "line 7" in str(info.value)
        finally:
            remote.close()
        # the server reads no file a client names, and a bad trace is a 4xx JSON report
        url = f"{stack.server_url}/api/plan"
        named = httpx.post(url, json={"model": MODEL, "trace": str(trace_file)})
        assert named.status_code == 400 and "does not read files" in named.text
        bad = httpx.post(url, json={"model": MODEL, "trace_csv": bad_trace.read_text()})
        assert 400 <= bad.status_code < 500
        error = bad.json()["error"]
        assert "line 3" in error["message"] and "Traceback" not in bad.text


def test_slack_and_the_notebook_render_the_plan_through_the_registry(trace_file: Path) -> None:
    from modeldeck.commands import run_without_store
    from modeldeck.rendering import render

    result = run_without_store(plan_command(f"plan {MODEL} trace={trace_file}"), load_settings())
    assert isinstance(result, CapacityPlanResult)
    card = render(result, "slack")
    assert "hourly" in json.dumps(card.block_dicts()) and card.text
    assert "hourly" in result.text and "Traceback" not in result.text


def test_the_notebook_answer_of_a_plan_is_its_text(trace_file: Path) -> None:
    from modeldeck.commands import run_without_store
    from modeldeck_jupyter.magics import result_answer

    result = run_without_store(plan_command(f"plan {MODEL} trace={trace_file}"), load_settings())
    assert isinstance(result, CapacityPlanResult)
    answer = result_answer(result)
    assert answer.ok and answer.text == result.text and "upfront" in answer.text


def test_mu_unit_tpm_enables_mu_and_apply_scales_the_units(tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'mu.db'}",
        planner={"mu_unit_tpm": {"qwen3-32b": {"input_tpm": 20_000, "output_tpm": 2_000}}},
    )
    deck = Deck(settings)
    try:
        with deck.store.session() as session:
            session.add(
                DeploymentRow(
                    id="dep-mu", deployed_model="qwen3-32b-mu-b2", name="mu", model="qwen3-32b",
                    plan="mu", status="RUNNING", units=1, created_at=T0, updated_at=T0,
                )
            )  # fmt: skip
            for i in range(60):
                session.add(
                    UsageMinuteRow(
                        deployed_model="qwen3-32b-mu-b2", minute=T0 + i * MIN, calls=1,
                        input_tokens=50_000, output_tokens=3_000,
                    )
                )  # fmt: skip
            session.commit()
        cmd = plan_command(
            "plan qwen3-32b deployment=mu period=2026-03-01T10:00+08:00..2026-03-01T11:00+08:00 "
            "coverage=1 apply option=mu"
        )
        result = deck.run(cmd, ALICE)
    finally:
        deck.close()
    assert isinstance(result, CapacityPlanResult) and result.request is not None
    mu = result.plan.option("mu")
    assert mu.units == 3  # 50k input TPM at 20k a unit, all of it served
    assert result.plan.current is not None and result.plan.current.units == 1
    assert result.request.kind == "scale" and result.request.scale is not None
    assert result.request.scale.units == 3 and result.request.status == "pending"
