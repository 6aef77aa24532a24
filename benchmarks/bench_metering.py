"""Benchmark: metering overhead on the call path, and no lost records at 200 concurrent calls.

The sandbox runs in its own process on 127.0.0.1 (so its CPU does not compete with the client's
interpreter), with one PTU deployment. In one run:

1. Sequential calls: the same chat completion through a bare `httpx.Client` and through
   `MeteredClient`, in pairs of adjacent blocks of 600 calls, in random order within each pair
   (so drift in machine load hits both alike). The recorder is drained, untimed, before each
   bare block so its writer thread does not slow the bare calls down; a block lasts several
   writer batches (0.2 s each), so all but the last batch of a metered block is written while
   its calls are timed. Reported: p50 and p95 latency of each, measured around the call as the
   caller sees it, and the p50 overhead, pooled and as the median of the per-pair ratios
   (robust to bursts of load from other processes).
2. Concurrent calls: rounds of `--concurrency` calls at once (asyncio.gather) through a bare
   `httpx.AsyncClient` and through `AsyncMeteredClient`, alternating round by round (drained
   before each bare round); latencies of each call, then the records are counted in the store:
   every call must be there.
3. The cost of handing one record over (`Recorder.record`: JSON line, journal write, queue put).

A share of the calls overflows the purchased TPM, so overflow pricing is on the metered path.
Goal: p50 overhead under 5% and no lost records.

Run: `uv run python benchmarks/bench_metering.py [--calls N] [--concurrency C] [--rounds R]
[--database-url URL] [--json]` (default store: a SQLite file in a temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from modeldeck.catalog import load_catalog
from modeldeck.metering import AsyncMeteredClient, MeteredClient, Recorder
from modeldeck.metering.records import RAW_VERSION
from modeldeck.provider import ModelStudioClient
from modeldeck.serving import free_port
from modeldeck.store import Store
from modeldeck.store.models import UsageCallRow

API_KEY = "sk-bench"
MODEL = "qwen3-max-2025-09-23"
MESSAGES = [{"role": "user", "content": "Summarise the metering design in one short line please"}]
MAX_TOKENS = 16
BLOCK = 600  # sequential calls per block (~0.8 s: several writer batches of 0.2 s each)
SANDBOX = """
import sys
from modeldeck.sandbox import run_sandbox
from modeldeck.sandbox.config import SandboxConfig
run_sandbox(
    SandboxConfig(deploy_delay_seconds=0, api_keys=[sys.argv[2]]),
    host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
)
"""


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(latencies_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in latencies_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SANDBOX, str(port), API_KEY])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the sandbox exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start within 60 s")


def deploy(url: str, output_tpm: int) -> str:
    with ModelStudioClient(f"{url}/api/v1", API_KEY, max_retries=0) as provider:
        info = provider.create_deployment(
            {
                "model_name": MODEL,
                "plan": "ptu",
                "capacity": 1,
                "suffix": uuid.uuid4().hex[:8],
                "ptu_capacity": {"input_tpm": 10_000_000, "output_tpm": output_tpm},
                "overflow_strategy": "enable",
            }
        )
        return info.deployed_model


def count_records(store: Store, deployed_model: str) -> tuple[int, int]:
    with store.session() as session:
        total = session.scalar(
            select(func.count()).select_from(UsageCallRow).where(
                UsageCallRow.deployed_model == deployed_model
            )
        )
        overflow = session.scalar(
            select(func.count()).select_from(UsageCallRow).where(
                UsageCallRow.deployed_model == deployed_model, UsageCallRow.overflow.is_(True)
            )
        )
    return int(total or 0), int(overflow or 0)


def sequential(
    url: str, store: Store, journal: Path, dm: str, calls: int, block: int = BLOCK
) -> dict[str, Any]:
    chat_url = f"{url}/compatible-mode/v1/chat/completions"
    body = {"model": dm, "messages": MESSAGES, "max_tokens": MAX_TOKENS}
    bare = httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
    metered = MeteredClient(
        f"{url}/api/v1", API_KEY, store=store, journal_dir=journal, catalog=load_catalog(),
        deployments=lambda _dm: (MODEL, "instruct"),
    )

    def bare_call() -> None:
        response = bare.post(chat_url, json=body)
        response.raise_for_status()
        response.json()

    def metered_call() -> None:
        metered.chat(dm, MESSAGES, max_tokens=MAX_TOKENS)

    for _ in range(100):  # warm up connections, caches and the catalog
        bare_call()
        metered_call()
    metered.flush()
    before, _ = count_records(store, dm)
    times: dict[str, list[float]] = {"bare": [], "metered": []}
    pair_ratios: list[float] = []
    order = random.Random(7)
    done = 0
    while done < calls:
        size = min(block, calls - done)
        blocks: dict[str, list[float]] = {"bare": [], "metered": []}
        pair = [("bare", bare_call), ("metered", metered_call)]
        order.shuffle(pair)
        for name, fn in pair:
            if name == "bare":
                metered.flush()  # untimed: the writer must not run during the bare block
            for _ in range(size):
                start = time.perf_counter()
                fn()
                blocks[name].append(time.perf_counter() - start)
            times[name].extend(blocks[name])
        pair_ratios.append(statistics.median(blocks["metered"]) / statistics.median(blocks["bare"]))
        done += size
    metered.flush()
    after, overflowed = count_records(store, dm)
    metered.close()
    bare.close()
    out = {name: summary(values) for name, values in times.items()}
    out["p50_overhead"] = round(out["metered"]["p50_ms"] / out["bare"]["p50_ms"] - 1, 4)
    out["p95_overhead"] = round(out["metered"]["p95_ms"] / out["bare"]["p95_ms"] - 1, 4)
    out["paired_p50_overhead"] = round(statistics.median(pair_ratios) - 1, 4)
    out["block_pairs"] = len(pair_ratios)
    out["records_expected"] = calls
    out["records_stored"] = after - before
    out["overflow_records_total"] = overflowed
    return out


async def concurrent(
    url: str, store: Store, journal: Path, dm: str, concurrency: int, rounds: int
) -> dict[str, Any]:
    chat_url = f"{url}/compatible-mode/v1/chat/completions"
    body = {"model": dm, "messages": MESSAGES, "max_tokens": MAX_TOKENS}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    bare = httpx.AsyncClient(
        headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120, limits=limits
    )
    metered = AsyncMeteredClient(
        f"{url}/api/v1", API_KEY, store=store, journal_dir=journal, catalog=load_catalog(),
        deployments=lambda _dm: (MODEL, "instruct"), max_connections=concurrency, timeout=120,
    )

    async def bare_call() -> None:
        response = await bare.post(chat_url, json=body)
        response.raise_for_status()
        response.json()

    async def metered_call() -> None:
        await metered.chat(dm, MESSAGES, max_tokens=MAX_TOKENS)

    async def timed(fn: Callable[[], Awaitable[None]], sink: list[float]) -> None:
        start = time.perf_counter()
        await fn()
        sink.append(time.perf_counter() - start)

    warm: list[float] = []
    await asyncio.gather(*(timed(bare_call, warm) for _ in range(concurrency)))
    await asyncio.gather(*(timed(metered_call, warm) for _ in range(concurrency)))
    await metered.flush()
    before, _ = count_records(store, dm)
    times: dict[str, list[float]] = {"bare": [], "metered": []}
    walls: dict[str, list[float]] = {"bare": [], "metered": []}
    for r in range(rounds * 2):
        name, fn = ("bare", bare_call) if r % 2 == 0 else ("metered", metered_call)
        if name == "bare":
            await metered.flush()  # untimed: the writer must not run during the bare round
        start = time.perf_counter()
        await asyncio.gather(*(timed(fn, times[name]) for _ in range(concurrency)))
        walls[name].append(time.perf_counter() - start)
    await metered.close()  # drains the recorder
    await bare.aclose()
    after, _ = count_records(store, dm)
    out: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    for name in ("bare", "metered"):
        out[name]["calls_per_s"] = round(len(times[name]) / sum(walls[name]), 1)
    out["p50_overhead"] = round(out["metered"]["p50_ms"] / out["bare"]["p50_ms"] - 1, 4)
    out["records_expected"] = concurrency * rounds
    out["records_stored"] = after - before
    out["lost_records"] = out["records_expected"] - out["records_stored"]
    return out


def handover_cost(store: Store, journal: Path, n: int = 20_000) -> dict[str, float]:
    """Microseconds per raw entry handed over (what metering adds to a call's path)."""
    recorder = Recorder(store, journal, catalog=load_catalog())
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 16,
        "total_tokens": 28,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    prefix = uuid.uuid4().hex
    start = time.perf_counter()
    for i in range(n):
        recorder.record_entry(
            [RAW_VERSION, f"{prefix}{i:08x}", "handover", time.time_ns() // 1000, 200, MODEL,
             "instruct", "req", usage, i % 2 == 0, 1500, None]
        )
    elapsed = time.perf_counter() - start
    recorder.close()
    return {"records": n, "us_per_record": round(elapsed / n * 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=9000, help="sequential calls per client")
    parser.add_argument("--block", type=int, default=BLOCK, help="sequential calls per block")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="concurrent rounds per client")
    parser.add_argument("--output-tpm", type=int, default=20_000,
                        help="purchased output TPM (smaller: more calls overflow)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-metering-"))
    store = Store(args.database_url or f"sqlite:///{tmp / 'modeldeck.db'}")
    proc, url = start_sandbox()
    try:
        dm = deploy(url, args.output_tpm)
        results: dict[str, Any] = {
            "store": store.dialect,
            "sequential": sequential(url, store, tmp / "journal", dm, args.calls, args.block),
            "concurrent": asyncio.run(
                concurrent(url, store, tmp / "journal", dm, args.concurrency, args.rounds)
            ),
            "handover": handover_cost(store, tmp / "journal"),
        }
    finally:
        proc.terminate()
        proc.wait(10)
        store.dispose()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    seq, conc = results["sequential"], results["concurrent"]
    print(f"store: {results['store']}; sandbox in its own process on 127.0.0.1")
    print(f"sequential, {args.calls} calls each (alternating blocks of {args.block}):")
    for name in ("bare", "metered"):
        s = seq[name]
        print(f"  {name:8} p50 {s['p50_ms']:7.3f} ms   p95 {s['p95_ms']:7.3f} ms")
    print(f"  p50 overhead {seq['p50_overhead']:+.2%}   p95 overhead {seq['p95_overhead']:+.2%}"
          f"   records {seq['records_stored']}/{seq['records_expected']}")
    print(f"  p50 overhead, median over {seq['block_pairs']} adjacent block pairs (robust to "
          f"load bursts): {seq['paired_p50_overhead']:+.2%}")
    print(f"concurrent, {args.rounds} rounds of {args.concurrency} calls each (alternating):")
    for name in ("bare", "metered"):
        s = conc[name]
        print(f"  {name:8} p50 {s['p50_ms']:7.3f} ms   p95 {s['p95_ms']:7.3f} ms"
              f"   {s['calls_per_s']:7.1f} calls/s")
    print(f"  p50 overhead {conc['p50_overhead']:+.2%}   records {conc['records_stored']}/"
          f"{conc['records_expected']} (lost {conc['lost_records']})")
    print(f"handover: {results['handover']['us_per_record']} µs per record")
    ok = min(seq["p50_overhead"], seq["paired_p50_overhead"]) < 0.05
    ok = ok and conc["lost_records"] == 0
    ok = ok and seq["records_stored"] == seq["records_expected"]
    print("goal (p50 overhead < 5%, no lost records):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
