"""Events API retries: Slack redelivers an event (same event_id, X-Slack-Retry-Num) when it
did not see a 200 in 3 s. Each retry is answered 200 and the event is processed once."""

from __future__ import annotations

import json

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.replicas import replica
from tests.slack.slack_env import BOB, CAROL
from tests.slack.slack_wire import SlackSender, event_callback_body


def test_a_retried_delivery_is_answered_200_and_processed_once(
    sender: SlackSender, fake_slack: FakeSlack
) -> None:
    body = event_callback_body(
        {"type": "app_home_opened", "user": BOB, "channel": "D0BOB", "tab": "home"}
    )
    first = sender.post(body, content_type="application/json")
    retries = [
        sender.post(
            body,
            content_type="application/json",
            headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"},
        )
        for n in (1, 2, 3)
    ]
    assert [r.status_code for r in (first, *retries)] == [200, 200, 200, 200]
    # a later, different delivery (new event_id) is processed; it was sent after the retries,
    # which go the same path, so once it is published they have been handled too
    fresh = json.loads(
        event_callback_body(
            {"type": "app_home_opened", "user": CAROL, "channel": "D0CAROL", "tab": "home"}
        )
    )
    assert sender.post(json.dumps(fresh), content_type="application/json").status_code == 200
    fake_slack.wait_for(
        lambda f: [c for c in f.calls("views.publish") if c.args["user_id"] == CAROL],
        what="the fresh event",
    )
    fake_slack.wait_for(
        lambda f: [c for c in f.calls("views.publish") if c.args["user_id"] == BOB],
        what="the first delivery",
    )
    assert len([c for c in fake_slack.calls("views.publish") if c.args["user_id"] == BOB]) == 1


def test_two_replicas_process_one_event_once(
    stack: Stack, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    """The same delivery reaching two bot processes (Slack's retry landed on the other replica)
    is processed by one: the event_id is claimed in the shared store."""
    body = event_callback_body(
        {"type": "app_home_opened", "user": BOB, "channel": "D0BOB", "tab": "home"}
    )
    with replica(stack) as (_, other):
        assert sender.post(body, content_type="application/json").status_code == 200
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        answer = other.post(body, content_type="application/json", headers=retry)
        assert answer.status_code == 200
        fresh = event_callback_body(
            {"type": "app_home_opened", "user": CAROL, "channel": "D0CAROL", "tab": "home"}
        )
        assert other.post(fresh, content_type="application/json").status_code == 200
        fake_slack.wait_for(
            lambda f: [c for c in f.calls("views.publish") if c.args["user_id"] == CAROL],
            what="the fresh event on the replica",
        )
        fake_slack.wait_for(
            lambda f: [c for c in f.calls("views.publish") if c.args["user_id"] == BOB],
            what="the first delivery",
        )
    assert len([c for c in fake_slack.calls("views.publish") if c.args["user_id"] == BOB]) == 1
