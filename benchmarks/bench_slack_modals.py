"""Benchmark: the ack of the `/deck` commands that open a form, against `/deck help`.

Slack gives an app 3 seconds to answer a slash command and a trigger id lives 3 seconds, so a
command that opens a modal must ack at once and call `views.open` well inside that. Over the
signed wire on loopback (a `Stack` with the Slack bot pointed at the tests' strict fake Web API),
each round sends `/deck help` (the baseline: answered in the ack), `/deck deploy` (opens the
deploy form) and `/deck scale <deployment>` (opens the scale form, after looking the deployment
up and pricing it as it is), and times the HTTP ack and the moment the fake records `views.open`.
The script exits 1 if a p95 misses Slack's 3 seconds.

Run: `uv run python benchmarks/bench_slack_modals.py [--rounds 30]` (also a row of
`benchmarks/run`, as `--only slack-forms`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' strict fake Web API

from table import Row, seconds

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


CASES = ("help (baseline)", "deploy (form)", "scale <dep> (form)")


def measure(rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per command: the seconds to each ack, and to each `views.open` (0 when no form opens)."""
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
        scale = f"scale {dep.deployed_model or dep.id}"
        texts = [("help", False), ("deploy", True), (scale, True)]
        cases = dict(zip(CASES, texts, strict=True))
        for text, modal in cases.values():  # warm every path once
            one(fake, sender, text, modal)
        acks: dict[str, list[float]] = {name: [] for name in cases}
        opens: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, (text, modal) in cases.items():
                acked, opened = one(fake, sender, text, modal)
                acks[name].append(acked)
                opens[name].append(opened)
        sender.close()
    return acks, opens


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: the form-opening commands' ack p95 against `/deck help`'s (goal: the
    ack and views.open inside Slack's 3 s, and the ack no slower than 2× help's)."""
    acks, opens = measure(5 if quick else 20)
    base = p95(acks["help (baseline)"])
    out = []
    for name in CASES[1:]:
        tail, opened = p95(acks[name]), p95(opens[name])
        out.append(
            Row(
                f"Slack /deck {name.split()[0]} opens its form: ack p95 (views.open p95)",
                f"{seconds(tail)} ({seconds(opened)})",
                f"{seconds(base)} /deck help ack p95",
                f"{tail / base:.2f}×",
                "≤ 2× help, < 3 s",
                None if quick else (tail <= 2 * base and opened < SLACK_BUDGET),
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    acks, opens = measure(args.rounds)
    modal = {name: name != "help (baseline)" for name in CASES}
    base = statistics.median(acks["help (baseline)"])
    print(f"/deck over the signed wire, {args.rounds} rounds, milliseconds")
    print(f"{'command':<22}{'ack p50':>9}{'ack p95':>9}{'x help':>8}{'views.open p95':>16}")
    failed = False
    for name in CASES:
        med, tail = statistics.median(acks[name]), p95(acks[name])
        opened = p95(opens[name]) if modal[name] else 0.0
        shown = f"{opened * 1000:>16.1f}" if modal[name] else f"{'-':>16}"
        print(f"{name:<22}{med * 1000:>9.1f}{tail * 1000:>9.1f}{med / base:>8.2f}{shown}")
        failed |= tail > SLACK_BUDGET or opened > SLACK_BUDGET
    print("goal: every p95 inside Slack's 3 s:", "missed" if failed else "met")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
