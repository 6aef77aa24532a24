"""`modeldeck chart spend|usage|plan --out file.png` writes real PNGs; `modeldeck alerts
[--json]` raises what is due once; only chart commands load matplotlib."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from modeldeck.cli import build_cli
from modeldeck.grammar import parse
from modeldeck.sandbox.testing import RunningSandbox
from tests.spend.spendhelpers import MakeDeck

AUTO = {"auto_approve_below_usd_per_day": 100_000}
TRACE = "minute,input_tokens,output_tokens\n" + "".join(
    f"2026-03-01T10:{m:02d}+08:00,{(m % 7) * 9000},{(m % 5) * 300}\n" for m in range(60)
)


def _config(tmp_path: Path, sandbox: RunningSandbox) -> dict[str, str | None]:
    toml = tmp_path / "modeldeck.toml"
    toml.write_text(
        f'data_dir = "{(tmp_path / "data").as_posix()}"\n'
        f'[sandbox]\nhost = "{sandbox.server.host}"\nport = {sandbox.server.port}\n'
        '[policy]\nauto_approve_below_usd_per_day = 100000\n'
        '[[budgets]]\nname = "tiny"\namount_usd = "0.01"\n'
    )
    return {"MODELDECK_CONFIG": str(toml), "MODELDECK_DATA_DIR": None, "MODELDECK_USER": "ops"}


def _png(path: Path) -> tuple[int, int]:
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert image.format == "PNG"
    return image.size


def test_chart_commands_write_pngs(
    tmp_path: Path, sandbox: RunningSandbox, make_deck: MakeDeck
) -> None:
    env = _config(tmp_path, sandbox)
    runner = CliRunner(env=env)
    cli = build_cli()
    deployed = runner.invoke(cli, ["deploy", "qwen3-max-2025-09-23", "ptu", "in=20k", "out=2k"])
    assert deployed.exit_code == 0, deployed.output
    listed = json.loads(runner.invoke(cli, ["list", "--json"]).stdout)
    dep = listed[0]["id"]

    spend = tmp_path / "spend.png"
    result = runner.invoke(cli, ["chart", "spend", "tiny", "--out", str(spend)])
    assert result.exit_code == 0, result.output
    assert _png(spend) == (800, 450)
    usage = tmp_path / "usage.png"
    result = runner.invoke(cli, ["chart", "usage", dep, "--hours", "2", "--out", str(usage)])
    assert result.exit_code == 0, result.output
    assert _png(usage) == (800, 450)
    trace = tmp_path / "trace.csv"
    trace.write_text(TRACE)
    plan = tmp_path / "plan.png"
    args = ["chart", "plan", "qwen3-max-2025-09-23", str(trace), "--out", str(plan), "--dpi", "60"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert _png(plan) == (480, 270)

    missing = runner.invoke(cli, ["chart", "spend", "nope", "--out", str(tmp_path / "x.png")])
    assert missing.exit_code == 2 and "No budget named 'nope'" in missing.output
    assert not (tmp_path / "x.png").exists()


def test_alerts_command_raises_once_and_prints_json(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    env = _config(tmp_path, sandbox)
    runner = CliRunner(env=env)
    cli = build_cli()
    assert runner.invoke(cli, ["deploy", "qwen3-32b", "mu", "units=1"]).exit_code == 0
    first = runner.invoke(cli, ["alerts", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert any(a["kind"] == "forecast_overrun" for a in data["report"]["new"])
    second = runner.invoke(cli, ["alerts"])
    assert second.exit_code == 0 and "0 new alert(s) raised" in second.stdout
    assert "forecast_overrun" in second.stdout


@pytest.mark.parametrize("args", [["alerts", "--help"], ["budget", "--help"], ["chart", "--help"]])
def test_other_commands_do_not_import_matplotlib(args: list[str]) -> None:
    code = (
        "import sys\nfrom modeldeck.cli import build_cli\n"
        f"try:\n    build_cli()({args!r})\nexcept SystemExit:\n    pass\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    env = {**os.environ, "MODELDECK_LOAD_PLUGINS": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)


def test_parse_alerts_takes_no_words() -> None:
    from modeldeck.errors import GrammarError

    with pytest.raises(GrammarError):
        parse("alerts now")
