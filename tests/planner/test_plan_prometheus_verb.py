"""`plan <model> prometheus deployment=<ref>`: the verb reads Model Studio's monitoring (the
sandbox's Prometheus) with the `[planner]` AccessKey pair, by the deployment's Model Code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.errors import UserError
from modeldeck.grammar import parse
from modeldeck.provider import build_create_body
from modeldeck.results import CapacityPlanResult
from modeldeck.sandbox.prometheus import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import load_settings
from modeldeck.store.models import DeploymentRow
from modeldeck.timeutil import BEIJING

MODEL = "qwen3-max-2025-09-23"
START = datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
PERIOD = "period=2026-03-01T10:00+08:00..2026-03-01T10:04+08:00"
ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])


@pytest.fixture
def sb() -> Iterator[RunningSandbox]:
    with running_sandbox(deploy_delay_seconds=0, clock_speed=1e-6, start_time=START) as sb:
        yield sb


def deck_for(sb: RunningSandbox, tmp_path: Path, secret: str, code: str) -> Deck:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'deck.db'}",
        planner={
            "prometheus_url": f"{sb.url}/prometheus",
            "access_key_id": DEFAULT_ACCESS_KEY_ID,
            "access_key_secret": secret,
        },
    )
    deck = Deck(settings)
    now = datetime.now(UTC)
    with deck.store.session() as session:
        session.add(
            DeploymentRow(
                id="dep-1", deployed_model=code, name="chat", model=MODEL, plan="ptu",
                status="RUNNING", input_tpm=10_000, output_tpm=1_000, created_at=now,
                updated_at=now,
            )
        )  # fmt: skip
        session.commit()
    return deck


def deploy_and_call(sb: RunningSandbox) -> str:
    spec = DeploySpec(model=MODEL, plan="ptu", input_tpm=10000, output_tpm=1000)
    with sb.client() as client:
        code = client.create_deployment(build_create_body(spec)).deployed_model
        sb.wait_for_status(client, code, "RUNNING")
    body = {"model": code, "messages": [{"role": "user", "content": " ".join(["w"] * 30)}],
            "max_tokens": 5}  # fmt: skip
    assert sb.http.post("/compatible-mode/v1/chat/completions", json=body).status_code == 200
    return code


def test_plan_from_prometheus_by_the_deployments_model_code(
    sb: RunningSandbox, tmp_path: Path
) -> None:
    code = deploy_and_call(sb)
    deck = deck_for(sb, tmp_path, DEFAULT_ACCESS_KEY_SECRET, code)
    try:
        result = deck.run(parse(f"plan {MODEL} prometheus deployment=chat {PERIOD}"), ALICE)
    finally:
        deck.close()
    assert isinstance(result, CapacityPlanResult)
    assert result.plan.trace.minutes == 4 and result.plan.trace.input_tokens > 0
    assert result.plan.current is not None  # priced against what the deployment runs today


def test_a_refused_access_key_is_a_user_error_without_the_secret(
    sb: RunningSandbox, tmp_path: Path
) -> None:
    code = deploy_and_call(sb)
    wrong = "wrong-secret-value-0042"
    deck = deck_for(sb, tmp_path, wrong, code)
    try:
        with pytest.raises(UserError) as info:
            deck.run(parse(f"plan {MODEL} prometheus deployment=chat {PERIOD}"), ALICE)
    finally:
        deck.close()
    assert wrong not in str(info.value) and wrong not in repr(info.value)
