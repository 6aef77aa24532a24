"""Benchmark: the ack of the `/deck` commands that open a form, against `/deck help`.

Slack gives an app 3 seconds to answer a slash command and a trigger id lives 3 seconds, so a
command that opens a modal must ack at once and call `views.open` well inside that. Over the
signed wire on loopback (a `Stack` with the Slack bot pointed at the tests' strict fake Web API),
each round sends `/deck help` (the baseline: answered in the ack), `/deck deploy` (opens the
deploy form) and `/deck scale <deployment>` (opens the scale form, after looking the deployment
up and pricing it as it is), and times the HTTP ack and the moment the fake records `views.open`.
The script exits 1 if a p95 misses Slack's 3 seconds.

Run from the repository root: `uv run python -m benchmarks.bench_slack_modals [--rounds 30]`
"""

from __future__ import annotations

import argparse
import statistics
import time

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    ALICE,
    BOB,
    BOT_TOKEN,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    USERS,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

SLACK_BUDGET = 3.0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def one(fake: FakeSlack, sender: SlackSender, text: str, modal: bool) -> tuple[float, float]:
    """(seconds to the ack, seconds to views.open or 0 when no form opens)."""
    trigger = fake.trigger_id()
    start = time.perf_counter()
    resp = sender.command(
        text, user=ALICE, channel=CHANNEL, response_url=fake.response_url(), trigger_id=trigger
    )
    acked = time.perf_counter() - start
    assert resp.status_code == 200, resp.text
    if not modal:
        return acked, 0.0
    fake.wait_for_call("views.open", lambda c: c.args.get("trigger_id") == trigger)
    return acked, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with (
        FakeSlack(bot_token=BOT_TOKEN, users=dict(USERS)) as fake,
        Stack(slack=slack_settings(fake)) as stack,
    ):
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        alice, bob = SlackUser(ALICE, sender, fake), SlackUser(BOB, sender, fake)
        alice.answer(f"deploy {MU_MODEL} mu units=1")
        assert stack.deck is not None
        (request,) = stack.deck.list_requests("pending")
        bob.answer(f"approve {request.id}")
        dep = stack.deck.get_deployment(str(stack.deck.get_request(request.id).deployment_id))
        cases = {
            "help (baseline)": ("help", False),
            "deploy (form)": ("deploy", True),
            "scale <dep> (form)": (f"scale {dep.deployed_model or dep.id}", True),
        }
        for text, modal in cases.values():  # warm every path once
            one(fake, sender, text, modal)
        acks: dict[str, list[float]] = {name: [] for name in cases}
        opens: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (text, modal) in cases.items():
                acked, opened = one(fake, sender, text, modal)
                acks[name].append(acked)
                opens[name].append(opened)
        sender.close()
    base = statistics.median(acks["help (baseline)"])
    print(f"/deck over the signed wire, {args.rounds} rounds, milliseconds")
    print(f"{'command':<22}{'ack p50':>9}{'ack p95':>9}{'x help':>8}{'views.open p95':>16}")
    failed = False
    for name in cases:
        med, tail = statistics.median(acks[name]), p95(acks[name])
        opened = p95(opens[name]) if cases[name][1] else 0.0
        shown = f"{opened * 1000:>16.1f}" if cases[name][1] else f"{'-':>16}"
        print(f"{name:<22}{med * 1000:>9.1f}{tail * 1000:>9.1f}{med / base:>8.2f}{shown}")
        failed |= tail > SLACK_BUDGET or opened > SLACK_BUDGET
    print("goal: every p95 inside Slack's 3 s:", "missed" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
