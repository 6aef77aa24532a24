"""`plan … apply` in thinking mode (issue 11's note: untested): the deploy it requests runs in
thinking mode at the sandbox, and on a thinking deployment the scale it requests keeps the mode."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from modeldeck.domain import DeploySpec, RequestStatus
from modeldeck.grammar import parse
from modeldeck.results import CapacityPlanResult
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.store.models import UsageMinuteRow
from tests.schedules.helpers import deck_for, deployed, through

MODEL = "qwen-flash-2025-07-28"  # PTU priced in thinking mode
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _trace(path: Path) -> Path:
    lines = ["minute,input_tokens,output_tokens,thinking_output_tokens"]
    for i in range(120):
        busy = i < 60
        at = (T0 + timedelta(minutes=i)).isoformat()
        lines.append(
            f"{at},{45_000 if busy else 15_000},{3_500 if busy else 500},{2_000 if busy else 300}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_apply_in_thinking_mode_deploys_a_thinking_deployment(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    trace = _trace(tmp_path / "thinking.csv")
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        alice = deck.resolve_actor("jupyter", "alice")
        text = f"plan {MODEL} trace={trace} mode=thinking coverage=0.9 apply option=hourly"
        result = deck.run(parse(text), alice)
        assert isinstance(result, CapacityPlanResult) and result.request is not None
        assert result.plan.mode == "thinking"
        hourly = result.plan.option("hourly")
        request = result.request
        assert request.deploy is not None and request.deploy.mode == "thinking"
        assert (request.deploy.input_tpm, request.deploy.output_tpm) == (
            hourly.input_tpm,
            hourly.output_tpm,
        )
        assert request.estimate is not None and request.estimate.total == hourly.reserved
        done = through(deck, request)
        assert done.status == RequestStatus.EXECUTED, done.error
        dep = deck.get_deployment(done.deployment_id or "")
        assert dep.mode == "thinking" and dep.input_tpm == hourly.input_tpm


def test_apply_on_a_thinking_deployment_scales_it(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        spec = DeploySpec(
            model=MODEL, plan="ptu", mode="thinking", input_tpm=10000, output_tpm=1000
        )
        dep_id = deployed(deck, sandbox, spec)
        code = deck.get_deployment(dep_id).deployed_model or ""
        with deck.store.session() as session:
            for i in range(120):
                busy = i < 60
                session.add(
                    UsageMinuteRow(
                        deployed_model=code, minute=T0 + timedelta(minutes=i), calls=1,
                        input_tokens=45_000 if busy else 15_000,
                        output_tokens=3_500 if busy else 500,
                        reasoning_tokens=2_000 if busy else 300,
                    )
                )  # fmt: skip
        alice = deck.resolve_actor("jupyter", "alice")
        period = "2026-03-01T10:00+08:00..2026-03-01T12:00+08:00"
        text = (
            f"plan {MODEL} deployment={dep_id} period={period} mode=thinking coverage=0.9 "
            "apply option=hourly"
        )
        result = deck.run(parse(text), alice)
        assert isinstance(result, CapacityPlanResult) and result.request is not None
        hourly = result.plan.option("hourly")
        request = result.request
        assert request.kind == "scale" and request.scale is not None
        assert request.target is not None and request.target.mode == "thinking"
        assert request.estimate is not None and hourly.reserved is not None
        assert Decimal(request.estimate.total) == hourly.reserved
        done = through(deck, request)
        assert done.status == RequestStatus.EXECUTED, done.error
        dep = deck.get_deployment(dep_id)
        assert (dep.input_tpm, dep.output_tpm) == (hourly.input_tpm, hourly.output_tpm)
        assert dep.mode == "thinking"
