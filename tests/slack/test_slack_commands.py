"""`/deck` commands over Slack's wire: answers are ephemeral, clear, and match the deck."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_slack import bot
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import MU_MODEL, PTU_MODEL, SlackUser


def test_help_lists_the_verbs(alice: SlackUser) -> None:
    text = alice.answer("help")
    for verb in ("models", "estimate", "deploy", "list", "approve"):
        assert verb in text
    assert alice.answer("") == text  # bare /deck is help


def test_models_lists_the_catalog(alice: SlackUser, stack: Stack) -> None:
    text = alice.answer("models")
    assert PTU_MODEL in text and MU_MODEL in text
    assert stack.deck is not None
    assert all(row["model"] in text for row in stack.deck.models()[:5])


def test_estimate_answers_with_the_decks_cost(alice: SlackUser, stack: Stack) -> None:
    words = f"estimate {MU_MODEL} mu units=2 hours=10"
    text = alice.answer(words)
    assert stack.deck is not None
    command = parse(words)
    assert isinstance(command, EstimateCommand)
    est = stack.deck.estimate(command.spec)
    assert Decimal(est.total) > 0
    assert format_amount(Decimal(est.total), est.currency) in text


def test_estimate_is_only_for_the_asker(alice: SlackUser, fake_slack: FakeSlack) -> None:
    alice.answer(f"estimate {MU_MODEL} mu units=1 hours=1")
    assert fake_slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("frobnicate now", "help"),
        ("estimate no-such-model-x ptu in=20k out=2k hours=1", "no-such-model-x"),
        (f"estimate {MU_MODEL} mu units=-3 hours=1", "units"),
        ("status no-such-deployment", "no-such-deployment"),
    ],
)
def test_user_errors_are_clear_and_ephemeral(alice: SlackUser, words: str, expected: str) -> None:
    text = alice.answer(words)
    assert ":warning:" in text
    assert expected in text
    assert "Traceback" not in text and 'File "' not in text


def test_list_shows_deployments(alice: SlackUser, stack: Stack) -> None:
    assert ":warning:" not in alice.answer("list")
    assert stack.deck is not None
    actor = stack.deck.resolve_actor("cli", "ops")
    command = parse(f"deploy {MU_MODEL} mu units=1")
    assert isinstance(command, DeployCommand)
    spec = command.spec
    req = stack.deck.request_deploy(spec, actor)
    other = stack.deck.resolve_actor("cli", "boss")
    stack.deck.approve(req.id, other)
    deployments = stack.deck.list_deployments()
    assert deployments
    text = alice.answer("list")
    assert all((d.name or d.deployed_model or d.id) in text for d in deployments)


def test_slow_commands_answer_through_response_url(
    alice: SlackUser, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot, "ACK_BUDGET_SECONDS", 0.0)
    resp, url = alice.command("models")
    assert resp.status_code == 200
    assert resp.json()["text"] == "Working on it…"
    post = fake_slack.wait_for_response(url)
    assert post.accepted and post.body["response_type"] == "ephemeral"
    assert PTU_MODEL in str(post.body)
    assert post.body["replace_original"] is False
