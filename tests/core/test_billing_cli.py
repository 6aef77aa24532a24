"""The worked examples through the CLI: `modeldeck estimate ... --json`, in-process.

A subprocess per example proved nothing extra (the console script is `cli.main`, tested in
tests/server); in-process, each run also shows that an estimate opens no store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from modeldeck.cli import build_cli
from modeldeck.money import round_cents

EXAMPLES: dict[int, list[str]] = {
    1: ["qwen3-max-2025-09-23", "ptu", "in=20000", "out=2000", "hours=10"],
    2: ["qwen3-max-2025-09-23", "ptu", "billing=upfront", "in=20000", "out=2000", "days=7"],
    3: ["qwen3-32b", "mu", "units=2", "duration=90m30s"],
    4: ["qwen3-vl-8b-instruct", "mu", "billing=monthly", "units=1", "months=1"],
    51: ["qwen3-max-2025-09-23", "ptu", "billing=upfront", "in=10000", "days=1",
         "start=2026-03-01T10:00"],
    52: ["qwen3-max-2025-09-23", "ptu", "billing=upfront", "in=10000", "days=1",
         "start=2026-03-01T22:30"],
    6: ["qwen3-vl-8b-instruct", "mu", "billing=monthly", "units=1", "months=1",
        "cancel_after=10d7h"],
    8: ["qwen-plus-2025-12-01", "ptu", "mode=thinking", "in=10000", "out=1000", "hours=1"],
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Any]]:
    """Run every example through the CLI with a data dir that must stay uncreated."""
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    env = {"MODELDECK_DATA_DIR": str(data_dir), "MODELDECK_CONFIG": None}
    runner = CliRunner(env=env)
    out: dict[int, Any] = {}
    for n, args in EXAMPLES.items():
        result = runner.invoke(build_cli(), ["estimate", *args, "--json"])
        out[n] = (result.exit_code, result.stdout, result.stderr)
    assert not data_dir.exists()  # estimates are priced from the catalog alone
    yield out


def ok(runs: dict[int, Any], n: int) -> dict[str, Any]:
    code, stdout, stderr = runs[n]
    assert code == 0, stderr
    data = json.loads(stdout)
    assert isinstance(data["total"], str) and data["currency"] == "USD"
    assert isinstance(data["lines"], list)
    return data


def test_example_1(runs: dict[int, Any]) -> None:
    data = ok(runs, 1)
    assert Decimal(data["total"]) == Decimal("31.20") and data["per_hour"] == "3.12"
    assert [line["rate"] for line in data["lines"]] == ["1.11", "0.45"]


def test_example_2(runs: dict[int, Any]) -> None:
    data = ok(runs, 2)
    assert Decimal(data["total"]) == Decimal("262.08") and Decimal(data["per_day"]) == Decimal(
        "37.44"
    )


def test_example_3(runs: dict[int, Any]) -> None:
    data = ok(runs, 3)
    assert round_cents(Decimal(data["total"])) == Decimal("121.33")
    assert data["lines"][0]["periods"] == "91" and data["lines"][0]["period_unit"] == "minute"


def test_example_4(runs: dict[int, Any]) -> None:
    assert Decimal(ok(runs, 4)["total"]) == Decimal("9400.00")


@pytest.mark.parametrize(
    ("n", "expires", "stops", "released"),
    [
        (51, "2026-03-01T23:59:59+08:00", "2026-03-02T01:59:59+08:00", "2026-03-02T15:59:59+08:00"),
        (52, "2026-03-02T23:59:59+08:00", "2026-03-03T01:59:59+08:00", "2026-03-03T15:59:59+08:00"),
    ],
)
def test_example_5(runs: dict[int, Any], n: int, expires: str, stops: str, released: str) -> None:
    timeline = ok(runs, n)["timeline"]
    assert (timeline["expires_at"], timeline["stops_at"], timeline["released_at"]) == (
        expires, stops, released,
    )  # fmt: skip


def test_example_6(runs: dict[int, Any]) -> None:
    cancellation = ok(runs, 6)["cancellation"]
    assert Decimal(cancellation["settled"]) == Decimal("4136.00")
    assert Decimal(cancellation["refund"]) == Decimal("5264.00")
    assert cancellation["billed_days"] == 11


def test_example_8(runs: dict[int, Any]) -> None:
    code, stdout, stderr = runs[8]
    assert code == 2 and "Traceback" not in stderr
    assert '"total"' not in stdout
    for words in ("qwen-plus-2025-12-01", "thinking", "output", "not listed",
                  "[[catalog.prices]]", 'price = "output_hourly"'):  # fmt: skip
        assert words in stderr
