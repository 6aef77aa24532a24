"""Benchmark: CLI start-up of read-only verbs against `python -c "import httpx, pydantic"`.

Each round runs the baseline and each verb once, in a shuffled order (paired, interleaved), as
whole processes with bytecode compiled (the script compiles the sources first, as an install
does), and takes the CPU time (user + sys) the child used, from the operating system's
accounting (`resource.getrusage(RUSAGE_CHILDREN)`); the ratio of a verb is the median of its
per-round ratios to that round's baseline. Goals (issue 15): `estimate` ≤ 1.5× and `--help`
≤ 1.2× the baseline.

Run: `uv run python benchmarks/bench_cli_start.py [--rounds 15]`
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Row, format_table, seconds, times

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, "-c", "import httpx, pydantic"]
VERBS: dict[str, tuple[list[str], float | None]] = {
    "--help": (["--help"], 1.2),
    "estimate": (["estimate", "qwen3-32b", "mu", "units=1", "hours=1"], 1.5),
    "models": (["models"], None),
    "compare": (["compare", "qwen3-32b", "mu", "units=1", "hours_per_day=8", "days=30"], None),
}


def compile_sources() -> None:
    """Bytecode for modeldeck and the environment's packages (what an install leaves)."""
    paths = [ROOT / "core" / "src", ROOT / "plugins"]
    paths += [Path(p) for p in sys.path if p.endswith("site-packages")]
    for path in paths:
        compileall.compile_dir(path, quiet=1, workers=2)


def cpu_of(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    """CPU seconds (user + sys) the command took as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per verb: (median CPU s, median baseline CPU s, median paired ratio)."""
    compile_sources()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELDECK_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["MODELDECK_DATA_DIR"] = str(Path(tmp) / "data")
        env["HOME"] = tmp
        commands = {"baseline": BASELINE} | {
            name: [sys.executable, "-m", "modeldeck", *words] for name, (words, _) in VERBS.items()
        }
        for argv in commands.values():  # warm the file cache
            cpu_of(argv, tmp, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        ratios: dict[str, list[float]] = {name: [] for name in VERBS}
        order = list(commands)
        for _ in range(rounds):
            random.shuffle(order)
            got = {name: cpu_of(commands[name], tmp, env) for name in order}
            for name in commands:
                samples[name].append(got[name])
            for name in VERBS:
                ratios[name].append(got[name] / got["baseline"])
        assert not (Path(tmp) / "data").exists(), "a read-only verb created the data directory"
    base = statistics.median(samples["baseline"])
    return {
        name: (statistics.median(samples[name]), base, statistics.median(ratios[name]))
        for name in VERBS
    }


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: 5 rounds quick, 15 otherwise."""
    return rows_from(measure(5 if quick else 15))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    print(format_table(rows_from(measure(args.rounds))))
    return 0


def rows_from(found: dict[str, tuple[float, float, float]]) -> list[Row]:
    out = []
    for name, (cpu, base, ratio) in found.items():
        goal = VERBS[name][1]
        out.append(
            Row(
                f"CLI `modeldeck {name}` start (CPU)",
                seconds(cpu),
                f"{seconds(base)} import httpx, pydantic",
                times(ratio),
                f"≤ {goal}×" if goal else "—",
                None if goal is None else ratio <= goal,
            )
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
