"""Benchmark: REST reads of the modeldeck server against a bare FastAPI app serving the same JSON.

Two server processes on 127.0.0.1, each uvicorn with one worker: the modeldeck server (team
mode: a principal and an API token, a SQLite store holding 10 deployments) and a bare FastAPI
app whose two endpoints return the very JSON modeldeck answered (fetched once at the start).
The client (this process, httpx.AsyncClient) sends `--requests` requests per round with
`--concurrency` in flight, to one server then the other, for `--rounds` alternating rounds:
`GET /api/deployments` and `POST /api/estimate`. Reported: p50/p99 latency and throughput of
each (medians over rounds); the ratio is modeldeck's p50 / the bare app's p50 in the same run.
Goal (issue 15): within 2× the bare endpoint.

Run: `uv run python benchmarks/bench_rest.py [--requests 1000] [--rounds 3]`
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
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Row, seconds

GOAL = 2.0
ESTIMATE = {"model": "qwen3-32b", "plan": "mu", "units": 1, "hours": 1}

MODELDECK_SERVER = """
import sys, uvicorn
from datetime import datetime, timezone
from sqlalchemy import insert
from modeldeck.deck import Deck
from modeldeck.identity.tokens import create_token
from modeldeck.server import create_app
from modeldeck.settings import Settings
from modeldeck.store.models import DeploymentRow

port, data_dir, token_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = Settings(data_dir=data_dir, principals=[{"name": "bench", "roles": ["viewer"]}])
deck = Deck(settings)
now = datetime(2026, 3, 1, tzinfo=timezone.utc)
with deck.store.session() as s:
    s.execute(insert(DeploymentRow), [
        {"id": f"dep_{i:03d}", "deployed_model": f"qwen3-32b-{i:03d}", "model": "qwen3-32b",
         "plan": "mu", "mode": "instruct", "billing": "hourly", "status": "RUNNING", "units": 1,
         "imported": False, "provider_data": {"region": "cn-beijing"}, "tags": {"team": "a"},
         "created_at": now, "updated_at": now}
        for i in range(10)
    ])
_, token = create_token(deck.store, "bench")
open(token_file, "w").write(token)
uvicorn.run(create_app(deck, settings), host="127.0.0.1", port=port, log_level="warning")
"""

BARE_SERVER = """
import json, sys, uvicorn
from typing import Any
from fastapi import FastAPI

port, answers = int(sys.argv[1]), json.load(open(sys.argv[2]))
app = FastAPI()

@app.get("/api/deployments")
def deployments() -> list[dict[str, Any]]:
    return answers["deployments"]

@app.post("/api/estimate")
def estimate(spec: dict[str, Any]) -> dict[str, Any]:
    return answers["estimate"]

uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(code: str, *args: str) -> Iterator[str]:
    """A server process running `code`; yields its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), *args])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"server {code[:40]!r} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def load(
    url: str, method: str, path: str, body: Any, headers: dict[str, str], n: int, concurrency: int
) -> tuple[list[float], float]:
    """`n` requests, `concurrency` in flight: each latency and the elapsed wall time."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as c:
        queue = iter(range(n))

        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                response = await c.request(method, path, json=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)

        for _ in range(concurrency):  # warm the connections
            await c.request(method, path, json=body)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(requests: int, concurrency: int, rounds: int) -> dict[str, dict[str, float]]:
    """Per endpoint and server: median over rounds of p50, p99 (s) and requests/s."""
    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "token"
        env_backup = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("MODELDECK_")}
        try:
            with server(MODELDECK_SERVER, str(Path(tmp) / "data"), str(token_file)) as md_url:
                auth = {"Authorization": f"Bearer {token_file.read_text()}"}
                answers = {
                    "deployments": httpx.get(f"{md_url}/api/deployments", headers=auth).json(),
                    "estimate": httpx.post(
                        f"{md_url}/api/estimate", json=ESTIMATE, headers=auth
                    ).json(),
                }
                assert len(answers["deployments"]) == 10, answers
                (Path(tmp) / "answers.json").write_text(json.dumps(answers))
                with server(BARE_SERVER, str(Path(tmp) / "answers.json")) as bare_url:
                    return _rounds(md_url, bare_url, auth, requests, concurrency, rounds)
        finally:
            os.environ.update(env_backup)


def _rounds(
    md_url: str, bare_url: str, auth: dict[str, str], n: int, concurrency: int, rounds: int
) -> dict[str, dict[str, float]]:
    endpoints = {
        "GET /api/deployments": ("GET", "/api/deployments", None),
        "POST /api/estimate": ("POST", "/api/estimate", ESTIMATE),
    }
    found: dict[str, dict[str, list[float]]] = {}
    for _ in range(rounds):
        for name, (method, path, body) in endpoints.items():
            for who, url, headers in (("modeldeck", md_url, auth), ("bare", bare_url, {})):
                lat, wall = asyncio.run(load(url, method, path, body, headers, n, concurrency))
                got = found.setdefault(f"{name} {who}", {"p50": [], "p99": [], "rps": []})
                got["p50"].append(pct(lat, 0.5))
                got["p99"].append(pct(lat, 0.99))
                got["rps"].append(n / wall)
    return {key: {k: statistics.median(v) for k, v in m.items()} for key, m in found.items()}


def rows_from(found: dict[str, dict[str, float]], concurrency: int) -> list[Row]:
    out = []
    for name in ("GET /api/deployments", "POST /api/estimate"):
        md, bare = found[f"{name} modeldeck"], found[f"{name} bare"]
        ratio = md["p50"] / bare["p50"]
        out.append(
            Row(
                f"REST {name}, {concurrency} concurrent (p50; p99; req/s)",
                f"{seconds(md['p50'])}; {seconds(md['p99'])}; {md['rps']:.0f}/s",
                f"{seconds(bare['p50'])}; {seconds(bare['p99'])}; {bare['rps']:.0f}/s bare FastAPI",
                f"{ratio:.2f}× p50, {md['rps'] / bare['rps']:.2f}× req/s",
                f"≤ {GOAL:.0f}× p50",
                ratio <= GOAL,
            )
        )
    return out


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: both endpoints at 50 concurrent."""
    return rows_from(measure(200 if quick else 1000, 50, 1 if quick else 3), 50)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    from table import format_table

    found = measure(args.requests, args.concurrency, args.rounds)
    print(format_table(rows_from(found, args.concurrency)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
