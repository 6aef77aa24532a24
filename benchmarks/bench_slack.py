"""Benchmark: Slack acks of `/deck estimate` and `/deck deploy` against a bare slack-bolt AsyncApp.

Over the signed wire on 127.0.0.1, with `--concurrency` requests in flight: the modeldeck stack
(sandbox, store, server with the Slack plugin; open mode) runs in its own process, a bare
slack-bolt `AsyncApp` that acks `/deck` at once (same signing secret, same HTTP server) in
another, and the strict fake Slack Web API (the one tests/slack uses) in this process, where
the bot's cards and response_url answers are counted. Rounds alternate modeldeck and bare.
Reported per command: ack p50/p99 and acks per second (medians over rounds), acks slower than
Slack's 3 s window, and for `deploy` how many channel cards reached the fake Web API.
Goals (issue 15): estimate p99 ≤ 1.5× and throughput ≥ 0.6× the bare app; deploy ack p99 ≤ 2×,
no ack after 3 s, every card posted.

Run: `uv run python benchmarks/bench_slack.py [--requests 2000] [--rounds 3]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from table import Row, format_table, seconds  # noqa: E402

from tests.slack.fake_slack import FakeSlack  # noqa: E402  (the strict fake Web API)
from tests.slack.slack_wire import signed_headers, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-bot-token"
CHANNEL = "C0DECK"
USER = "U0ALICE"
ACK_WINDOW = 3.0
COMMANDS = {
    "estimate": "estimate qwen3-32b mu units=1 hours=1",
    "deploy": "deploy qwen3-32b mu units=1",
}

MODELDECK = """
import json, sys
from modeldeck.testing import Stack
slack = json.loads(sys.argv[1])
with Stack(slack=slack, deploy_delay_seconds=0.1) as stack:
    print(stack.server_url, flush=True)
    sys.stdin.read()
"""

BARE = """
import sys, uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.routing import Route

from slack_sdk.web.async_client import AsyncWebClient

token, api_url = sys.argv[3], sys.argv[4]
app = AsyncApp(signing_secret=sys.argv[2], client=AsyncWebClient(token=token, base_url=api_url))

@app.command("/deck")
async def deck(ack):
    await ack()

handler = AsyncSlackRequestHandler(app)

async def events(request):
    return await handler.handle(request)

port = int(sys.argv[1])
print(f"http://127.0.0.1:{port}", flush=True)
uvicorn.run(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]),
            host="127.0.0.1", port=port, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def process(code: str, *args: str) -> Iterator[str]:
    """A child running `code`; yields the URL it prints once the URL answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELDECK_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("a benchmark server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.terminate()
        proc.wait(20)


async def load(
    url: str, fake: FakeSlack, text: str, n: int, concurrency: int
) -> tuple[list[float], float, list[str], int]:
    """`n` signed `/deck text` commands, `concurrency` in flight: ack latencies, wall time,
    and the response_urls handed out."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    urls: list[str] = []
    errors: list[str] = []
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        queue = iter(range(n))

        async def one() -> None:
            response_url = fake.response_url()
            urls.append(response_url)
            body = slash_command_body(
                text,
                user=USER,
                channel=CHANNEL,
                response_url=response_url,
                trigger_id=fake.trigger_id(),
            )
            headers = signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded")
            start = time.perf_counter()
            try:
                response = await client.post(f"{url}/slack/events", content=body, headers=headers)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}")
                return
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}")

        async def worker() -> None:
            for _ in queue:
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    if errors:
        print(f"{url}: {len(errors)} of {n} failed: {sorted(set(errors))}", file=sys.stderr)
    return latencies, wall, urls, len(errors)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cards(fake: FakeSlack) -> int:
    """Channel cards (not thread replies) the bot posted to the fake Web API."""
    return sum(
        1
        for c in fake.calls("chat.postMessage")
        if c.args.get("channel") == CHANNEL and not c.args.get("thread_ts")
    )


def measure(n: int, concurrency: int, rounds: int) -> dict[str, Any]:
    """Per command and app: median p50, p99 (s), acks/s; slow acks; deploy cards."""
    found: dict[str, dict[str, list[float]]] = {}
    slow: dict[str, int] = {f"{c} {w}": 0 for c in COMMANDS for w in ("modeldeck", "bare")}
    failed = dict.fromkeys(slow, 0)
    deploys = 0
    with FakeSlack(bot_token=BOT_TOKEN, users={USER: "alice"}) as fake:
        slack = {"bot_token": BOT_TOKEN, "signing_secret": SECRET, "api_url": fake.api_url}
        # the bare app first: its port is chosen before the stack binds ports of its own
        with (
            process(BARE, str(free_port()), SECRET, BOT_TOKEN, fake.api_url) as bare_url,
            process(MODELDECK, json.dumps(slack)) as md_url,
        ):
            for text in COMMANDS.values():  # warm both: one alone (bolt's auth.test), then many
                for url in (md_url, bare_url):
                    asyncio.run(load(url, fake, text, 1, 1))
                    asyncio.run(load(url, fake, text, concurrency, concurrency))
            deploys += concurrency + 1
            for _ in range(rounds):
                for name, text in COMMANDS.items():
                    for who, url in (("modeldeck", md_url), ("bare", bare_url)):
                        lat, wall, _, bad = asyncio.run(load(url, fake, text, n, concurrency))
                        failed[f"{name} {who}"] += bad
                        got = found.setdefault(f"{name} {who}", {"p50": [], "p99": [], "rps": []})
                        got["p50"].append(pct(lat, 0.5))
                        got["p99"].append(pct(lat, 0.99))
                        got["rps"].append(n / wall)
                        slow[f"{name} {who}"] += sum(1 for x in lat if x > ACK_WINDOW)
                        if who == "modeldeck" and name == "deploy":
                            deploys += n
            deadline = time.monotonic() + 120
            while cards(fake) < deploys and time.monotonic() < deadline:
                time.sleep(0.5)
            posted = cards(fake)
    out: dict[str, Any] = {
        key: {k: statistics.median(v) for k, v in m.items()} for key, m in found.items()
    }
    out["slow"], out["failed"], out["deploys"], out["cards"] = slow, failed, deploys, posted
    return out


def rows_from(m: dict[str, Any], n: int, concurrency: int, rounds: int) -> list[Row]:
    out = []
    goals = {"estimate": (1.5, 0.6), "deploy": (2.0, None)}
    for name in COMMANDS:
        md, bare = m[f"{name} modeldeck"], m[f"{name} bare"]
        p99_ratio, rps_ratio = md["p99"] / bare["p99"], md["rps"] / bare["rps"]
        p99_goal, rps_goal = goals[name]
        met = p99_ratio <= p99_goal and (rps_goal is None or rps_ratio >= rps_goal)
        goal = f"p99 ≤ {p99_goal}×" + (f", ≥ {rps_goal}× acks/s" if rps_goal else "")
        if name == "deploy":
            goal += ", 0 acks > 3 s, every card"
            met = met and m["slow"][f"{name} modeldeck"] == 0 and m["cards"] == m["deploys"]
        met = met and m["failed"][f"{name} modeldeck"] == 0
        extra = f"; {m['slow'][f'{name} modeldeck']} acks > 3 s" + (
            f"; cards {m['cards']}/{m['deploys']}" if name == "deploy" else ""
        )
        extra += f"; {m['failed'][f'{name} modeldeck']} not acked (404/error)"
        out.append(
            Row(
                f"Slack `/deck {name}` ack, {concurrency} concurrent, {n:,} × {rounds} "
                "(p50; p99; acks/s)",
                f"{seconds(md['p50'])}; {seconds(md['p99'])}; {md['rps']:.0f}/s{extra}",
                f"{seconds(bare['p50'])}; {seconds(bare['p99'])}; {bare['rps']:.0f}/s; "
                f"{m['slow'][f'{name} bare']} acks > 3 s, "
                f"{m['failed'][f'{name} bare']} not acked, bare bolt",
                f"{p99_ratio:.2f}× p99, {rps_ratio:.2f}× acks/s",
                goal,
                met,
            )
        )
    return out


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: both commands at 50 concurrent (200 requests a round when quick)."""
    n, rounds = (200, 1) if quick else (2000, 3)
    return rows_from(measure(n, 50, rounds), n, 50, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="per command per round")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    found = measure(args.requests, args.concurrency, args.rounds)
    print(format_table(rows_from(found, args.requests, args.concurrency, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
