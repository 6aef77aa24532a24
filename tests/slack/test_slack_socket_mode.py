"""Socket Mode: the same bot over Slack's websocket protocol (hello, envelopes, acks)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack import plugin
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket_mode import FakeSocketMode
from tests.slack.slack_env import ALICE, BOB, BOT_TOKEN, CHANNEL, MU_MODEL
from tests.slack.slack_wire import block_actions_payload, slash_command_body

APP_TOKEN = "xapp-test-socket-token-never-shown"


class Runner:
    """Runs the coroutines the `startup` hook returned on a loop of their own."""

    def __init__(self, awaitables: list[Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.tasks: list[asyncio.Task[Any]] = []
        self.awaitables = awaitables
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.tasks = [self.loop.create_task(a) for a in self.awaitables]
        self.loop.run_until_complete(asyncio.gather(*self.tasks, return_exceptions=True))
        self.loop.close()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        for task in self.tasks:
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(15)


@pytest.fixture
def socket_stack(fake_slack: FakeSlack) -> Iterator[tuple[Stack, FakeSocketMode]]:
    fake_slack.app_token = APP_TOKEN
    slack = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "api_url": fake_slack.api_url}
    with FakeSocketMode(fake_slack) as socket, Stack(slack=slack) as stack:
        assert stack.settings is not None
        runners = plugin.startup(deck=stack.deck, settings=stack.settings)
        assert runners is not None and len(runners) == 1
        runner = Runner(runners)
        runner.start()
        socket.wait_connected()
        yield stack, socket
        runner.stop()


def _command(fake: FakeSlack, text: str, user: str) -> dict[str, Any]:
    body = slash_command_body(
        text,
        user=user,
        channel=CHANNEL,
        response_url=fake.response_url(),
        trigger_id=fake.trigger_id(),
    )
    return dict(parse_qsl(body))


def test_commands_and_clicks_over_socket_mode(
    socket_stack: tuple[Stack, FakeSocketMode], fake_slack: FakeSlack
) -> None:
    stack, socket = socket_stack
    assert stack.deck is not None
    assert fake_slack.calls("apps.connections.open", ok=True)
    ack = socket.wait_for_ack(socket.send("slash_commands", _command(fake_slack, "help", ALICE)))
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "estimate" in ack["payload"]["text"]

    words = f"deploy {MU_MODEL} mu units=1"
    socket.wait_for_ack(socket.send("slash_commands", _command(fake_slack, words, ALICE)))
    post = fake_slack.wait_for_call("chat.postMessage")
    ts = str(post.response["ts"])
    request_id = stack.deck.list_requests("pending")[0].id
    click = block_actions_payload(
        action_id=APPROVE_ACTION,
        value=request_id,
        user=BOB,
        channel=CHANNEL,
        message_ts=ts,
        response_url=fake_slack.response_url(),
        trigger_id=fake_slack.trigger_id(),
    )
    socket.wait_for_ack(socket.send("interactive", click))
    update = fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    assert "approved via slack" in json.dumps(update.args["blocks"])
    assert stack.deck.get_request(request_id).status == RequestStatus.EXECUTED
    told = fake_slack.wait_for_call("chat.postEphemeral", lambda c: c.args["user"] == BOB)
    assert "executed" in told.args["text"]
    assert APP_TOKEN not in fake_slack.everything_recorded()
