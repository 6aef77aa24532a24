"""Benchmark: metering overhead on the call path, and no lost records at 200 concurrent calls.

The sandbox runs in its own process on 127.0.0.1 (so its CPU does not compete with the client's
interpreter), with one PTU deployment; a share of the calls overflows the purchased TPM, so
overflow pricing is on the metered path. In one run:

1. Sequential calls: the same chat completion as a bare httpx call and as a metered call, in
   pairs (random order within each pair). Both go through the metered client's own
   `httpx.Client` (`MeteredClient.http`), i.e. the same keep-alive connection: two separate
   connections on loopback differ by several percent on their own on a busy 2-core machine
   (their packets are steered to different cores), which would swamp what is measured. The
   recorder's writer thread runs as it does in production, during both kinds of call; its cost
   is measured separately in 3. Reported: p50 and p95 of each, the p50 overhead, and the
   median of the paired differences.
2. Concurrent calls: rounds of `--concurrency` calls at once (asyncio.gather), bare and metered
   rounds alternating, through `AsyncMeteredClient` and its `http` client; per-call latency
   (dominated by queueing at 200 in flight), calls/s, and then every metered call is counted in
   the store: none may be lost.
3. The recorder: microseconds per entry handed over on the call path (JSON line into the
   mapped journal, queue), and CPU time of the writer thread per record (decode, price, insert,
   roll-up, commit), as a share of one core at the sequential call rate.

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

from modeldeck.catalog import Catalog, load_catalog
from modeldeck.metering import AsyncMeteredClient, MeteredClient, Recorder
from modeldeck.metering.records import RAW_VERSION
from modeldeck.provider import ModelStudioClient, ProviderError
from modeldeck.serving import free_port
from modeldeck.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Row

from modeldeck.store.models import UsageCallRow

API_KEY = "sk-bench"
MODEL = "qwen3-max-2025-09-23"
MESSAGES = [{"role": "user", "content": "Summarise the metering design in one short line please"}]
MAX_TOKENS = 16
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
                "charge_type": "post_paid",
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
            select(func.count())
            .select_from(UsageCallRow)
            .where(UsageCallRow.deployed_model == deployed_model)
        )
        overflow = session.scalar(
            select(func.count())
            .select_from(UsageCallRow)
            .where(UsageCallRow.deployed_model == deployed_model, UsageCallRow.overflow.is_(True))
        )
    return int(total or 0), int(overflow or 0)


def sequential(
    url: str, store: Store, journal: Path, dm: str, calls: int, catalog: Catalog
) -> dict[str, Any]:
    metered = MeteredClient(
        f"{url}/api/v1",
        API_KEY,
        store=store,
        journal_dir=journal,
        catalog=catalog,
        deployments=lambda _dm: (MODEL, "instruct"),
    )
    bare = metered.http  # the same connection: see the module docstring
    chat_url = metered.chat_url
    body = {"model": dm, "messages": MESSAGES, "max_tokens": MAX_TOKENS}

    def bare_call() -> None:
        response = bare.post(chat_url, json=body)
        response.raise_for_status()
        response.json()

    def metered_call() -> None:
        metered.chat(dm, MESSAGES, max_tokens=MAX_TOKENS)

    for _ in range(200):  # warm up the connection, caches and the writer
        bare_call()
        metered_call()
    metered.flush()
    before, _ = count_records(store, dm)
    times: dict[str, list[float]] = {"bare": [], "metered": []}
    diffs: list[float] = []
    order = random.Random(7)
    pair: list[tuple[str, Callable[[], None]]] = [("bare", bare_call), ("metered", metered_call)]
    started = time.perf_counter()
    for _ in range(calls):
        order.shuffle(pair)
        took: dict[str, float] = {}
        for name, fn in pair:
            start = time.perf_counter()
            fn()
            took[name] = time.perf_counter() - start
            times[name].append(took[name])
        diffs.append(took["metered"] - took["bare"])
    elapsed = time.perf_counter() - started
    metered.flush()
    after, overflowed = count_records(store, dm)
    metered.close()
    out: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    out["p50_overhead"] = round(out["metered"]["p50_ms"] / out["bare"]["p50_ms"] - 1, 4)
    out["p95_overhead"] = round(out["metered"]["p95_ms"] / out["bare"]["p95_ms"] - 1, 4)
    out["paired_median_diff_us"] = round(statistics.median(diffs) * 1e6, 1)
    out["paired_overhead"] = round(statistics.median(diffs) * 1000 / out["bare"]["p50_ms"], 4)
    out["metered_calls_per_s"] = round(calls / elapsed, 1)
    out["records_expected"] = calls
    out["records_stored"] = after - before
    out["overflow_records_total"] = overflowed
    return out


def sdk_pairs(
    url: str, store: Store, journal: Path, dm: str, calls: int, catalog: Catalog
) -> dict[str, Any]:
    """The official OpenAI SDK, bare and with modeldeck's `MeteredTransport`, in random order
    within each of `calls` pairs; each SDK on its own keep-alive connection."""
    import openai

    from modeldeck.metering.transport import MeteredTransport

    meter = MeteredClient(
        f"{url}/api/v1", API_KEY, store=store, journal_dir=journal, catalog=catalog,
        deployments=lambda _dm: (MODEL, "instruct"),
    )  # fmt: skip
    metered_http = httpx.Client(transport=MeteredTransport(meter))
    clients = {
        "sdk": openai.OpenAI(base_url=meter.base_url, api_key=API_KEY, max_retries=0),
        "sdk metered": openai.OpenAI(
            base_url=meter.base_url,
            api_key=API_KEY,
            max_retries=0,
            http_client=metered_http,  # type: ignore[arg-type]
        ),
    }

    def call(name: str) -> None:
        clients[name].chat.completions.create(
            model=dm,
            messages=MESSAGES,  # type: ignore[arg-type]
            max_tokens=MAX_TOKENS,
        )

    for _ in range(200):
        for name in clients:
            call(name)
    meter.flush()
    before, _ = count_records(store, dm)
    times: dict[str, list[float]] = {name: [] for name in clients}
    diffs: list[float] = []
    order = random.Random(11)
    names = list(clients)
    for _ in range(calls):
        order.shuffle(names)
        took = {}
        for name in names:
            start = time.perf_counter()
            call(name)
            took[name] = time.perf_counter() - start
            times[name].append(took[name])
        diffs.append(took["sdk metered"] - took["sdk"])
    meter.flush()
    after, _ = count_records(store, dm)
    meter.close()
    metered_http.close()
    out: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    out["p50_overhead"] = round(out["sdk metered"]["p50_ms"] / out["sdk"]["p50_ms"] - 1, 4)
    out["paired_overhead"] = round(statistics.median(diffs) * 1000 / out["sdk"]["p50_ms"], 4)
    out["records_expected"] = calls
    out["records_stored"] = after - before
    return out


async def concurrent(
    url: str, store: Store, journal: Path, dm: str, concurrency: int, rounds: int, catalog: Catalog
) -> dict[str, Any]:
    metered = AsyncMeteredClient(
        f"{url}/api/v1",
        API_KEY,
        store=store,
        journal_dir=journal,
        catalog=catalog,
        deployments=lambda _dm: (MODEL, "instruct"),
        max_connections=concurrency,
        timeout=120,
    )
    bare = metered.http
    chat_url = metered.chat_url
    body = {"model": dm, "messages": MESSAGES, "max_tokens": MAX_TOKENS}

    async def bare_call() -> None:
        response = await bare.post(chat_url, json=body)
        response.raise_for_status()
        response.json()

    async def metered_call() -> None:
        await metered.chat(dm, MESSAGES, max_tokens=MAX_TOKENS)

    failed = {"bare": 0, "metered": 0}

    async def timed(name: str, fn: Callable[[], Awaitable[None]], sink: list[float]) -> None:
        start = time.perf_counter()
        try:
            await fn()
        except (httpx.HTTPError, ProviderError):
            failed[name] += 1  # e.g. a keep-alive connection the server had just closed
        sink.append(time.perf_counter() - start)

    warm: list[float] = []
    await metered_call()  # fills the deployment lookup cache
    await asyncio.gather(*(timed("bare", bare_call, warm) for _ in range(concurrency)))
    await asyncio.gather(*(timed("metered", metered_call, warm) for _ in range(concurrency)))
    await metered.flush()
    failed = {"bare": 0, "metered": 0}
    before, _ = count_records(store, dm)
    times: dict[str, list[float]] = {"bare": [], "metered": []}
    walls: dict[str, list[float]] = {"bare": [], "metered": []}
    for r in range(rounds * 2):
        name, fn = ("bare", bare_call) if r % 2 == 0 else ("metered", metered_call)
        start = time.perf_counter()
        await asyncio.gather(*(timed(name, fn, times[name]) for _ in range(concurrency)))
        walls[name].append(time.perf_counter() - start)
    await metered.close()  # drains the recorder
    after, _ = count_records(store, dm)
    out: dict[str, Any] = {name: summary(values) for name, values in times.items()}
    for name in ("bare", "metered"):
        out[name]["calls_per_s"] = round(len(times[name]) / sum(walls[name]), 1)
    out["p50_overhead"] = round(out["metered"]["p50_ms"] / out["bare"]["p50_ms"] - 1, 4)
    out["throughput_ratio"] = round(out["metered"]["calls_per_s"] / out["bare"]["calls_per_s"], 4)
    out["failed_calls"] = failed
    out["records_expected"] = concurrency * rounds  # failed calls are recorded too
    out["records_stored"] = after - before
    out["lost_records"] = out["records_expected"] - out["records_stored"]
    return out


def recorder_cost(store: Store, journal: Path, catalog: Catalog, n: int = 20_000) -> dict[str, Any]:
    """Call-path µs per entry handed over, and writer-thread CPU µs per record stored."""
    recorder = Recorder(store, journal, catalog=catalog, batch_interval=3600, batch_size=10**7)
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 16,
        "total_tokens": 28,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    counts = [usage["prompt_tokens"], usage["completion_tokens"], 0, 0]
    prefix = uuid.uuid4().hex
    start = time.perf_counter()
    for i in range(n):
        recorder.record_entry(
            [
                RAW_VERSION,
                f"{prefix}{i:08x}",
                "handover",
                time.time_ns() // 1000,
                200,
                MODEL,
                "instruct",
                "req",
                counts,
                i % 2 == 0,
                1500,
                None,
            ]
        )
    handover = time.perf_counter() - start
    # The calling thread only waits now: the process CPU time is the writer's.
    cpu, wall = time.process_time(), time.perf_counter()
    recorder.batch_size = 500
    assert recorder.flush(600)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    recorder.close()
    return {
        "records": n,
        "handover_us_per_record": round(handover / n * 1e6, 2),
        "writer_cpu_us_per_record": round(cpu / n * 1e6, 2),
        "writer_wall_us_per_record": round(wall / n * 1e6, 2),
    }


def measure(
    calls: int, concurrency: int, rounds: int, output_tpm: int, database_url: str | None
) -> dict[str, Any]:
    """Sequential pairs, concurrent rounds and the recorder's cost, against one sandbox."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-metering-"))
    store = Store(database_url or f"sqlite:///{tmp / 'modeldeck.db'}")
    catalog = load_catalog()
    proc, url = start_sandbox()
    try:
        dm = deploy(url, output_tpm)
        seq = sequential(url, store, tmp / "journal", dm, calls, catalog)
        sdk = sdk_pairs(url, store, tmp / "journal-sdk", dm, max(calls // 5, 100), catalog)
        conc = asyncio.run(
            concurrent(url, store, tmp / "journal", dm, concurrency, rounds, catalog)
        )
        rec = recorder_cost(store, tmp / "journal", catalog)
    finally:
        proc.terminate()
        proc.wait(10)
        store.dispose()
    rec["writer_core_share_at_sequential_rate"] = round(
        rec["writer_cpu_us_per_record"] * 1e-6 * seq["metered_calls_per_s"], 4
    )
    return {
        "store": store.dialect, "sequential": seq, "sdk": sdk, "concurrent": conc, "recorder": rec
    }  # fmt: skip


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: metered call p50 against bare httpx (goal ≤ +5%), no lost records."""
    m = measure(500 if quick else 5000, 50 if quick else 200, 2 if quick else 5, 20_000, None)
    seq, conc, sdk = m["sequential"], m["concurrent"], m["sdk"]
    lost = conc["lost_records"] + seq["records_expected"] - seq["records_stored"]
    return [
        Row(
            "metering: a chat call, p50 (sequential pairs)",
            f"{seq['metered']['p50_ms']:.3f} ms",
            f"{seq['bare']['p50_ms']:.3f} ms bare httpx, same connection",
            f"{seq['p50_overhead']:+.2%} (paired {seq['paired_overhead']:+.2%})",
            "≤ +5%, 0 lost",
            seq["p50_overhead"] <= 0.05 and lost == 0,
        ),
        Row(
            "metering: the OpenAI SDK with modeldeck's transport, p50 (pairs)",
            f"{sdk['sdk metered']['p50_ms']:.3f} ms",
            f"{sdk['sdk']['p50_ms']:.3f} ms the bare OpenAI SDK",
            f"{sdk['p50_overhead']:+.2%} (paired {sdk['paired_overhead']:+.2%})",
            "≤ +5%, 0 lost",
            sdk["p50_overhead"] <= 0.05 and sdk["records_stored"] == sdk["records_expected"],
        ),
        Row(
            f"metering: throughput at {50 if quick else 200} concurrent",
            f"{conc['metered']['calls_per_s']:.0f} calls/s",
            f"{conc['bare']['calls_per_s']:.0f} calls/s bare",
            f"{conc['throughput_ratio']:.3f}",
            "0 lost",
            conc["lost_records"] == 0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000, help="sequential pairs of calls")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="concurrent rounds per client")
    parser.add_argument(
        "--output-tpm",
        type=int,
        default=20_000,
        help="purchased output TPM (smaller: more calls overflow)",
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = measure(args.calls, args.concurrency, args.rounds, args.output_tpm, args.database_url)
    seq, conc, rec = results["sequential"], results["concurrent"], results["recorder"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"store: {results['store']}; sandbox in its own process on 127.0.0.1")
    print(f"sequential, {args.calls} pairs of calls (bare, metered) on one connection:")
    for name in ("bare", "metered"):
        s = seq[name]
        print(f"  {name:8} p50 {s['p50_ms']:7.3f} ms   p95 {s['p95_ms']:7.3f} ms")
    print(
        f"  p50 overhead {seq['p50_overhead']:+.2%}   p95 overhead {seq['p95_overhead']:+.2%}"
        f"   median paired difference {seq['paired_median_diff_us']:+.1f} µs"
        f" ({seq['paired_overhead']:+.2%})"
    )
    print(f"  records {seq['records_stored']}/{seq['records_expected']}")
    sdk = results["sdk"]
    print(f"OpenAI SDK, {sdk['records_expected']} pairs (bare SDK, SDK with MeteredTransport):")
    for name in ("sdk", "sdk metered"):
        print(f"  {name:12} p50 {sdk[name]['p50_ms']:7.3f} ms   p95 {sdk[name]['p95_ms']:7.3f} ms")
    print(
        f"  p50 overhead {sdk['p50_overhead']:+.2%} (paired {sdk['paired_overhead']:+.2%}); "
        f"records {sdk['records_stored']}/{sdk['records_expected']}"
    )
    print(f"concurrent, {args.rounds} rounds of {args.concurrency} calls each (alternating):")
    for name in ("bare", "metered"):
        s = conc[name]
        print(
            f"  {name:8} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms"
            f"   {s['calls_per_s']:7.1f} calls/s"
        )
    print(
        f"  throughput metered/bare {conc['throughput_ratio']:.3f}   records "
        f"{conc['records_stored']}/{conc['records_expected']} (lost {conc['lost_records']}; "
        f"failed calls bare {conc['failed_calls']['bare']}, metered "
        f"{conc['failed_calls']['metered']}, recorded as errors)"
    )
    print(
        f"recorder: {rec['handover_us_per_record']} µs per entry on the call path; writer "
        f"{rec['writer_cpu_us_per_record']} µs CPU per record "
        f"({rec['writer_core_share_at_sequential_rate']:.1%} of a core at "
        f"{seq['metered_calls_per_s']:.0f} calls/s)"
    )
    ok = seq["p50_overhead"] < 0.05 and conc["lost_records"] == 0
    ok = ok and seq["records_stored"] == seq["records_expected"]
    print("goal (p50 overhead < 5%, no lost records):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
