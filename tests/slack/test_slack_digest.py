"""The weekly digest: due on its Beijing weekday and time, posted exactly once across replicas
with the spend chart in its thread; expiring orders and idle deployments named."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from modeldeck.grammar import parse
from modeldeck.settings import WEEKDAYS, SlackDigestSettings
from modeldeck.testing import Stack
from modeldeck.timeutil import to_beijing, utcnow
from modeldeck_slack.digest import DigestPoster, due_slot, last_slot, poster_for
from tests.slack.fake_slack import FakeSlack
from tests.slack.replicas import replica
from tests.slack.slack_env import CHANNEL, MU_MODEL, PTU_MODEL, slack_settings

AUTO = {"auto_approve_below_usd_per_day": "1000000", "two_approvers_for_upfront": False}
AT = utcnow() + timedelta(hours=2)  # "now" for the digest: the MU deployment is idle by then
SLOT = to_beijing(AT - timedelta(minutes=1))


def test_the_slot_is_the_last_beijing_weekday_and_time() -> None:
    digest = SlackDigestSettings(channel="C1", weekday="mon", time="09:00")
    monday_9_bj = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
    assert last_slot(monday_9_bj, digest) == monday_9_bj
    assert last_slot(monday_9_bj - timedelta(seconds=1), digest) == monday_9_bj - timedelta(7)
    assert due_slot(monday_9_bj + timedelta(hours=11), digest) == monday_9_bj
    assert due_slot(monday_9_bj + timedelta(hours=13), digest) is None  # too late: skipped
    with pytest.raises(ValueError, match="HH:MM"):
        SlackDigestSettings(channel="C1", time="9am")


@pytest.fixture
def stack(fake_slack: FakeSlack) -> Iterator[Stack]:
    digest = {"channel": CHANNEL, "weekday": WEEKDAYS[SLOT.weekday()], "time": f"{SLOT:%H:%M}"}
    with Stack(
        slack=slack_settings(fake_slack, digest=digest),
        policy=AUTO,
        alerts={"idle_hours": 1},
    ) as running:
        yield running


def test_the_digest_is_posted_once_across_replicas_with_its_chart(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    deck = stack.deck
    assert deck is not None
    ops = deck.resolve_actor("cli", "ops")
    deck.run(parse(f"deploy {MU_MODEL} mu units=1 suffix=quiet"), ops)
    deck.run(parse(f"deploy {PTU_MODEL} ptu billing=upfront in=20000 out=2000 days=3"), ops)
    for _ in range(100):  # the sandbox runs them shortly; the reconciler sees it
        if all(d.status == "RUNNING" for d in deck.refresh()):
            break
        time.sleep(0.1)
    poster = poster_for(deck, deck.settings)
    assert poster is not None
    with replica(stack) as (other, _):
        other_poster = poster_for(other, other.settings)
        assert other_poster is not None
        results = [poster.run_due(deck, AT), other_poster.run_due(other, AT)]
        results.append(poster.run_due(deck, AT + timedelta(minutes=1)))
    assert results.count(True) == 1
    [post] = [m for m in fake_slack.channel_messages(CHANNEL) if "weekly digest" in m.text]
    text = " ".join(b.get("text", {}).get("text", "") for b in post.blocks)
    assert "Spend, last 7 days" in text and "forecast" in text
    assert "Upfront orders expiring this week*\n• " in text and "unless renewed" in text
    assert "Idle deployments*\n• " in text and "quiet" in text
    [chart] = fake_slack.shared_files(CHANNEL)
    assert chart["thread_ts"] == post.ts and chart["bytes"].startswith(b"\x89PNG")


def test_a_digest_that_could_not_be_posted_is_tried_again(
    stack: Stack, fake_slack: FakeSlack
) -> None:
    deck = stack.deck
    assert deck is not None
    poster = poster_for(deck, deck.settings)
    assert poster is not None
    elsewhere = deck.settings.model_copy(deep=True)
    assert elsewhere.slack.digest is not None
    elsewhere.slack.digest.channel = "C0OTHER"  # the bot is not in it: Slack refuses
    assert DigestPoster(elsewhere, poster.client).run_due(deck, AT) is False
    assert deck.claimed_keys("slack_digest") == []
    assert poster.run_due(deck, AT) is True
    assert len(deck.claimed_keys("slack_digest")) == 1


def test_the_servers_start_the_digest_loop_only_when_configured(stack: Stack) -> None:
    from modeldeck_slack import plugin

    assert stack.deck is not None and stack.settings is not None
    tasks = plugin.startup(deck=stack.deck, settings=stack.settings)
    assert tasks is not None and [t.__name__ for t in tasks] == ["digest_loop"]
    for task in tasks:
        task.close()
    plain = stack.settings.model_copy(update={"slack": stack.settings.slack.model_copy()})
    plain.slack.digest = None
    assert plugin.startup(deck=stack.deck, settings=plain) is None
