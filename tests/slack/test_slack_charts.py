"""`/deck cost … chart`, `/deck plan … chart` and `/deck usage … chart` over the signed wire:
the image goes through files.getUploadURLExternal → POST of the bytes → completeUploadExternal,
checked by the strict fake (arguments, bytes before completion, PNG magic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import CHANNEL, MU_MODEL, PTU_MODEL, SlackUser
from tests.slack.test_slack_costs import deployed

PNG = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def trace(path: Path) -> Path:
    lines = ["minute,input_tokens,output_tokens"]
    for i in range(120):
        at = (T0 + timedelta(minutes=i)).isoformat()
        lines.append(f"{at},{45_000 if i < 60 else 15_000},{1_500 if i < 60 else 500}")
    path.write_text("\n".join(lines) + "\n")
    return path


def upload_methods(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls() if c.method.startswith("files.")]


def test_cost_chart_is_uploaded_to_the_channel(
    alice: SlackUser, bob: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    answer = alice.answer("cost all chart")
    assert "Shared *Spend this month (all deployments)*" in answer, answer
    [shared] = fake_slack.shared_files(CHANNEL)
    assert shared["bytes"].startswith(PNG) and len(shared["bytes"]) > 5000
    assert shared["title"] == "Spend this month (all deployments)"
    assert upload_methods(fake_slack) == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert all(c.ok for c in fake_slack.calls() if c.method.startswith("files."))


def test_plan_chart_uploads_the_cost_curve(
    alice: SlackUser, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = trace(tmp_path / "usage.csv")
    answer = alice.answer(f"plan {PTU_MODEL} trace={path} chart")
    assert "cost vs input capacity" in answer, answer
    [shared] = fake_slack.shared_files(CHANNEL)
    assert shared["bytes"].startswith(PNG)
    assert shared["title"].startswith(PTU_MODEL)


def test_usage_chart_and_bad_chart_requests(
    alice: SlackUser, bob: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    dep = deployed(stack, alice, bob, f"deploy {PTU_MODEL} ptu in=50000 out=5000")
    answer = alice.answer(f"usage {dep.deployed_model} hours=2 chart")
    assert "Shared *Usage per minute" in answer, answer
    assert len(fake_slack.shared_files(CHANNEL)) == 1
    assert "hours must be from 1 to" in alice.answer(f"usage {dep.id} hours=9999 chart")
    assert "Which deployment?" in alice.answer("usage chart")
    assert "no purchased input TPM" in alice.answer(
        f"usage {deployed(stack, alice, bob, f'deploy {MU_MODEL} mu units=1').id} chart"
    )
    # a channel the bot is not in: Slack refuses the share and the user is told how to fix it
    answer = alice.answer("cost all chart", channel="C0OTHER")
    assert "not_in_channel" in answer and "Invite the bot" in answer
    assert len(fake_slack.shared_files()) == 1


def test_budget_chart_shows_the_budget_line(alice: SlackUser, fake_slack: FakeSlack) -> None:
    assert "no budget to chart" in alice.answer("budget chart")
    alice.answer("budget set name=team amount=500")
    answer = alice.answer("budget chart")
    assert "Shared *Budget team" in answer, answer
    [shared] = fake_slack.shared_files(CHANNEL)
    assert shared["bytes"].startswith(PNG)
    assert "No budget is named" in alice.answer("budget nope chart")
