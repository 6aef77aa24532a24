"""Slack fixtures: a strict fake Slack Web API and a running modeldeck stack pointed at it.

Tests talk to the bot the way Slack does (signed HTTP to `/slack/events`) and read what the bot
sent back from the fake's records; the sandbox stands in for Model Studio.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.limits_check import outgoing_problems
from tests.slack.slack_env import (
    ALICE,
    BOB,
    BOT_TOKEN,
    SIGNING_SECRET,
    USERS,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender


@pytest.fixture(autouse=True)
def _no_outside_slack_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack variables of the machine running the tests must not leak into them."""
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    for var in ("MODELDECK_SLACK_API_URL", "MODELDECK_SLACK__CHANNEL", "MODELDECK_CONFIG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Web API; when the test ends, everything the bot sent is checked against
    Slack's Block Kit limits (`limits_check`)."""
    with FakeSlack(bot_token=BOT_TOKEN, users=dict(USERS)) as fake:
        yield fake
        problems = outgoing_problems(fake)
        assert not problems, f"the bot sent messages over Slack's limits: {problems}"


@pytest.fixture
def stack(fake_slack: FakeSlack) -> Iterator[Stack]:
    """Open mode (no principals): every Slack user is a principal with every role."""
    with Stack(slack=slack_settings(fake_slack)) as running:
        yield running


@pytest.fixture
def sender(stack: Stack) -> Iterator[SlackSender]:
    client = SlackSender(stack.server_url, SIGNING_SECRET)
    yield client
    client.close()


@pytest.fixture
def alice(sender: SlackSender, fake_slack: FakeSlack) -> SlackUser:
    return SlackUser(ALICE, sender, fake_slack)


@pytest.fixture
def bob(sender: SlackSender, fake_slack: FakeSlack) -> SlackUser:
    return SlackUser(BOB, sender, fake_slack)
