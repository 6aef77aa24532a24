"""The one Block Kit limits check every Slack test applies to everything the bot sent.

`SlackSender` checks each answer the bot gives in an HTTP response (an ack with blocks), and the
`fake_slack` fixture checks, when a test ends, every Web API call and response_url post the
fake recorded, with `modeldeck_slack.limits` (50 blocks, 3,000 characters a section, 10 fields
of at most 2,000, headers, buttons, views).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modeldeck_slack.limits import block_problems, message_problems, view_problems
from tests.slack.fake_slack import FakeSlack

MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
VIEW_METHODS = ("views.open", "views.update", "views.publish", "views.push")


def answer_problems(body: Mapping[str, Any]) -> list[str]:
    """What breaks Slack's limits in a message-shaped body (ack, response_url post)."""
    if "blocks" not in body and "text" not in body:
        return []
    return message_problems(body)


def outgoing_problems(fake: FakeSlack) -> list[str]:
    """Every limit breach in what the bot sent to this fake, named by method."""
    out: list[str] = []
    for call in fake.calls():
        if call.method in MESSAGE_METHODS:
            out += [f"{call.method}: {p}" for p in message_problems(call.args)]
        elif call.method in VIEW_METHODS and isinstance(call.args.get("view"), Mapping):
            out += [f"{call.method}: {p}" for p in view_problems(call.args["view"])]
    for post in fake.responses():
        if isinstance(post.body, Mapping):
            out += [f"response_url: {p}" for p in answer_problems(post.body)]
    return out


def assert_answer_within_limits(body: Any) -> None:
    """An HTTP answer from the bot: when it carries a message, it is within Slack's limits."""
    if isinstance(body, Mapping):
        problems = answer_problems(body)
        if isinstance(body.get("view"), Mapping):
            problems += view_problems(body["view"])
        assert not problems, f"the bot answered over Slack's limits: {problems}"


__all__ = ["assert_answer_within_limits", "block_problems", "outgoing_problems"]
