"""Read-only CLI verbs import only what they use and open no store (issue 15, CLI start-up).

Each verb runs in a fresh interpreter (`python -c` calling `modeldeck.cli.main`), which then
prints the modules it had imported: the store (SQLAlchemy, Alembic), Slack's SDK, ipywidgets,
matplotlib and the sandbox must be absent, and the data directory must not have been created.
Behaviour only; how long start-up takes is measured in benchmarks/bench_cli_start.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "slack_sdk",
    "slack_bolt",
    "ipywidgets",
    "matplotlib",
    "modeldeck.sandbox",
    "modeldeck.store",
)

PROBE = """
import json, sys
from modeldeck.cli import main
sys.argv = ["modeldeck", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

TRACE = "minute,input_tokens,output_tokens\n" + "".join(
    f"2026-03-01T10:{m:02d}:00+08:00,{20_000 + 100 * m},{1_000 + m}\n" for m in range(30)
)

VERBS = {
    "help": ["--help"],
    "help verb": ["help", "estimate"],
    "models": ["models"],
    "estimate": ["estimate", "qwen3-32b", "mu", "units=1", "hours=1"],
    "estimate json": ["estimate", "qwen3-max-2025-09-23", "ptu", "in=20k", "out=2k", "--json"],
    "compare": ["compare", "qwen3-32b", "mu", "units=1", "hours_per_day=8", "days=30"],
    "plan on a file": ["plan", "qwen3-max-2025-09-23", "trace=usage.csv"],
    "a user error": ["estimate", "qwen3-32b"],
}


def run_verb(words: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    """Run `modeldeck <words>` in a new interpreter in tmp_path: exit code, modules, output."""
    (tmp_path / "usage.csv").write_text(TRACE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELDECK_")}
    env["MODELDECK_DATA_DIR"] = str(tmp_path / "data")
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(words)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out, _, tail = proc.stderr.rpartition("\nMODULES ")
    report = json.loads(tail)
    return int(report["code"] or 0), set(report["modules"]), proc.stdout + out


@pytest.mark.parametrize("verb", list(VERBS))
def test_read_only_verb_imports_no_store_slack_widgets_charts_or_sandbox(
    verb: str, tmp_path: Path
) -> None:
    code, modules, output = run_verb(VERBS[verb], tmp_path)
    assert code == (2 if verb == "a user error" else 0), output
    loaded = sorted(m for m in modules for f in FORBIDDEN if m == f or m.startswith(f + "."))
    assert loaded == [], f"{verb} imported {loaded}"
    assert not (tmp_path / "data").exists(), f"{verb} created the data directory"
    assert not list(tmp_path.glob("**/*.db")), f"{verb} created a store file"


def test_the_probe_sees_a_verb_that_does_open_the_store(tmp_path: Path) -> None:
    """The probe itself can fail: `list` opens (and creates) the local store."""
    code, modules, output = run_verb(["list"], tmp_path)
    assert code == 0, output
    assert "sqlalchemy" in modules
    assert (tmp_path / "data").exists()


HELP_FORBIDDEN = (
    "pydantic.main",
    "pydantic_settings",
    "rich",
    "modeldeck.grammar.commands",
    "modeldeck.domain",
    "modeldeck.results",
    "modeldeck.events",
    "modeldeck.settings",
)


def test_help_lists_the_commands_without_building_a_pydantic_model_or_importing_rich(
    tmp_path: Path,
) -> None:
    """`modeldeck --help` reads the verb table and the plugins' hooks only (no command model,
    settings, result, event or rich console is made), and still lists every verb and command."""
    code, modules, output = run_verb(["--help"], tmp_path)
    assert code == 0, output
    loaded = sorted(m for m in modules for f in HELP_FORBIDDEN if m == f or m.startswith(f + "."))
    assert loaded == [], f"--help imported {loaded}"
    for name in ("estimate", "schedule", "withdraw", "chart", "reconcile", "plugins"):
        assert f"\n  {name} " in output, f"--help does not list {name}"


def test_the_help_probe_sees_a_verb_that_builds_the_command_models(tmp_path: Path) -> None:
    """The probe itself can fail: a verb's own help lists its keys from its command model."""
    code, modules, output = run_verb(["estimate", "--help"], tmp_path)
    assert code == 0, output
    assert "modeldeck.grammar.commands" in modules
    assert "in=<TPM>" in output or "units=" in output
