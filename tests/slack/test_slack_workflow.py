"""The card follows the workflow whatever path a request takes: policy, /deck approve, expiry."""

from __future__ import annotations

import asyncio
import json
import threading

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack.cards import off_the_loop
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    ALICE,
    BOB,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

DEPLOY = f"deploy {MU_MODEL} mu units=1"


def test_auto_approved_request_is_shown_done(fake_slack: FakeSlack) -> None:
    policy = {"auto_approve_below_usd_per_day": "1000000"}
    with Stack(slack=slack_settings(fake_slack), policy=policy) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        answer = SlackUser(ALICE, sender, fake_slack).answer(DEPLOY)
        sender.close()
        assert "approved by policy" in answer and "executed" in answer
        post = fake_slack.wait_for_call("chat.postMessage")
        ts = str(post.response["ts"])
        update = fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
        assert all(b["type"] != "actions" for b in update.args["blocks"])
        assert "auto-approved" in json.dumps(update.args["blocks"])
        assert stack.deck is not None
        assert stack.deck.list_requests()[0].status == RequestStatus.EXECUTED


def test_deck_approve_command_updates_the_card(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    alice.answer(DEPLOY)
    post = fake_slack.wait_for_call("chat.postMessage")
    ts = str(post.response["ts"])
    assert stack.deck is not None
    request_id = stack.deck.list_requests("pending")[0].id
    assert "cannot approve" in alice.answer(f"approve {request_id}")
    answer = bob.answer(f"approve {request_id}")
    assert "approved and executed" in answer
    update = fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    assert update.args["channel"] == CHANNEL
    assert f"<@{BOB}> approved via slack" in json.dumps(update.args["blocks"])
    # the command's channel was known, so the card was not updated twice for one decision
    assert len([c for c in fake_slack.calls("chat.update") if c.args.get("ts") == ts]) == 1


def test_hooks_called_on_an_event_loop_do_not_block_it() -> None:
    seen: list[str] = []
    done = threading.Event()

    def slack_call() -> None:
        seen.append(threading.current_thread().name)
        done.set()

    async def on_the_loop() -> str:
        off_the_loop(slack_call)
        return threading.current_thread().name

    loop_thread = asyncio.run(on_the_loop())
    assert done.wait(10)
    assert seen and seen[0] != loop_thread and seen[0].startswith("modeldeck-slack")
    off_the_loop(slack_call)  # no loop here: runs inline
    assert seen[-1] == threading.current_thread().name


def test_expired_request_card_says_so(fake_slack: FakeSlack) -> None:
    with Stack(slack=slack_settings(fake_slack), policy={"request_ttl": "1s"}) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        SlackUser(ALICE, sender, fake_slack).answer(DEPLOY)
        sender.close()
        ts = str(fake_slack.wait_for_call("chat.postMessage").response["ts"])
        assert stack.deck is not None
        deck = stack.deck

        def expired(f: FakeSlack) -> bool:
            deck.list_requests()  # expiry is noticed when requests are looked at
            return bool([c for c in f.calls("chat.update") if c.args.get("ts") == ts])

        fake_slack.wait_for(expired, what="the card updated on expiry")
        card = json.dumps(fake_slack.message(CHANNEL, ts).blocks)
        assert "Expired" in card and "modeldeck_approve" not in card
        note = fake_slack.wait_for_call("chat.postMessage", lambda c: c.args.get("thread_ts") == ts)
        assert "expired" in note.args["text"]
