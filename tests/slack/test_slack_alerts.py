"""Alerts in Slack: what the core raises (expiry with a Renew button, failed executions, drift,
console imports) reaches the channel `[[alerts.routes]]` names, once, even with two replicas."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from modeldeck.deck import Deck
from modeldeck.errors import ModeldeckError
from modeldeck.grammar import parse
from modeldeck.store.orders import open_orders
from modeldeck.testing import Stack
from modeldeck_slack.actions import RENEW_ACTION
from tests.slack.fake_slack import FakeSlack, Message
from tests.slack.replicas import replica
from tests.slack.slack_env import ALICE, BOT_TOKEN, SIGNING_SECRET, USERS, slack_settings
from tests.slack.slack_wire import SlackSender

OPS = "C0OPS"
ROUTES = [
    {"kind": "expiry", "channel": OPS},
    {"kind": "execution_failed", "channel": OPS},
    {"kind": "drift", "channel": OPS},
    {"kind": "import", "channel": OPS},
]
UPFRONT = "deploy qwen3-max-2025-09-23 ptu billing=upfront in=20000 out=2000 days=7 suffix=up"
AUTO = {"auto_approve_below_usd_per_day": "1000000", "two_approvers_for_upfront": False}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    channels = {"C0DECK": True, OPS: True, "C0OTHER": False}
    with FakeSlack(bot_token=BOT_TOKEN, users=dict(USERS), channels=channels) as running:
        yield running


@pytest.fixture
def stack(fake: FakeSlack) -> Iterator[Stack]:
    with Stack(
        slack=slack_settings(fake, channel="C0DECK"),
        policy=AUTO,
        alerts={"routes": ROUTES},
        sandbox_options={
            "faults": [{"kind": "error", "method": "POST", "status": 400, "times": 1}]
        },
    ) as running:
        yield running


def posts(fake: FakeSlack, channel: str, words: str) -> list[Message]:
    return [m for m in fake.channel_messages(channel) if words in m.text]


def posted(words: str) -> Callable[[FakeSlack], list[Message]]:
    return lambda f: posts(f, OPS, words)


def deck_of(stack: Stack) -> Deck:
    assert stack.deck is not None
    return stack.deck


def wait_running(deck: Deck, code: str) -> None:
    for _ in range(100):
        if deck.provider.get_deployment(code).status == "RUNNING":
            return
        time.sleep(0.1)
    raise AssertionError(f"{code} never ran")


def test_failed_execution_and_upfront_expiry_post_once_with_renew(
    stack: Stack, fake: FakeSlack
) -> None:
    deck = deck_of(stack)
    ops = deck.resolve_actor("cli", "ops")
    # the sandbox refuses the first create: the execution fails, and the ops channel hears it
    failed = deck.run(parse("deploy qwen3-32b mu units=1 suffix=boom"), ops)
    request_id = failed.request.id  # type: ignore[attr-defined]
    fake.wait_for(lambda f: posts(f, OPS, f"Request {request_id} failed"), what="failure post")
    deck.run(parse(UPFRONT), ops)
    with deck.store.session() as session:
        [order] = open_orders(session)
        expires, dep_id = order.expires_at, order.deployment_id
    assert expires is not None
    for hours in (24, 2):
        report = deck.alerts(now=expires - timedelta(hours=hours) + timedelta(minutes=5))
        assert [a.kind for a in report.new if a.kind.startswith("expiry")] == [f"expiry:{hours}h"]
        fake.wait_for(posted(f"within {hours} h"), what=f"the {hours} h post")
    # evaluated again here and on a replica: nothing new is raised, nothing posted again
    with replica(stack) as (other, _):
        assert other.alerts(now=expires - timedelta(minutes=50)).new == []
    assert deck.alerts(now=expires - timedelta(minutes=40)).new == []
    for hours in (24, 2):
        [post] = posts(fake, OPS, f"within {hours} h")
        [actions] = [b for b in post.blocks if b["type"] == "actions"]
        [button] = actions["elements"]
        assert (button["action_id"], button["value"]) == (RENEW_ACTION, dep_id)
    assert len(posts(fake, OPS, f"Request {request_id} failed")) == 1
    assert not [m for m in fake.channel_messages("C0DECK") if "within" in m.text]


def test_the_renew_button_answers_the_clicker(stack: Stack, fake: FakeSlack) -> None:
    deck = deck_of(stack)
    ops = deck.resolve_actor("cli", "ops")
    deck.run(parse("deploy qwen3-32b mu units=1 suffix=boom"), ops)  # takes the injected fault
    deck.run(parse(UPFRONT), ops)
    with deck.store.session() as session:
        [order] = open_orders(session)
    assert order.expires_at is not None
    deck.alerts(now=order.expires_at - timedelta(hours=1))
    post = fake.wait_for(lambda f: posts(f, OPS, "within 2 h"), what="the 2 h post")[0]
    sender = SlackSender(stack.server_url, SIGNING_SECRET)
    try:
        resp = sender.click(
            action_id=RENEW_ACTION,
            value=order.deployment_id,
            user=ALICE,
            channel=OPS,
            message_ts=post.ts,
            response_url=fake.response_url(),
            trigger_id=fake.trigger_id(),
            block_id="modeldeck_alert_actions",
        )
    finally:
        sender.close()
    assert resp.status_code == 200

    def answered(f: FakeSlack) -> Any:
        # the renew form (once the change modals are in) or the command to type
        hint = [
            c for c in f.calls("chat.postEphemeral", ok=True) if "/deck renew" in c.args["text"]
        ]
        return hint or f.calls("views.open", ok=True)

    fake.wait_for(answered, what="an answer to Renew")


def test_console_import_and_drift_reach_the_routed_channel_once(
    stack: Stack, fake: FakeSlack
) -> None:
    deck = deck_of(stack)
    body = {
        "model_name": "qwen3-32b",
        "plan": "mu",
        "capacity": 1,
        "deploy_spec": "MU1",
        "billing_method": "POST_PAY",
    }
    with pytest.raises(ModeldeckError):  # the injected fault takes the first create
        deck.provider.create_deployment({**body, "suffix": "refused"})
    info = deck.provider.create_deployment({**body, "suffix": "console"})
    code = str(info.deployed_model)
    deck.refresh()
    with replica(stack) as (other, _):
        other.refresh()
    fake.wait_for(lambda f: posts(f, OPS, "made outside modeldeck"), what="the import post")
    wait_running(deck, code)
    deck.refresh()
    deck.provider.scale_deployment(code, capacity=3)
    wait_running(deck, code)
    deck.refresh()
    fake.wait_for(lambda f: posts(f, OPS, "capacity changed outside"), what="the drift post")
    deck.refresh()
    assert len(posts(fake, OPS, "made outside modeldeck")) == 1
    [drift] = posts(fake, OPS, "capacity changed outside")
    assert "units 1 → 3" in drift.blocks[1]["text"]["text"]
