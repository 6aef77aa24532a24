"""[[budgets]] and [alerts] in modeldeck.toml: parsed into typed models, bad input explained."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from modeldeck.budgets import Budget, BudgetTarget, parse_scope, period_bounds
from modeldeck.errors import ConfigError
from modeldeck.settings import load_settings
from modeldeck.timeutil import BEIJING

TOML = """
[[budgets]]
name = "llm-team"
scope = "workspace"
amount_usd = 5000
period = "month"
thresholds = [50, 80, 100]
hard = false

[[budgets]]
name = "search"
scope = "tag:team=search"
amount_usd = "1200.50"
period = "2026-03-01..2026-03-31"
hard = true

[[budgets]]
name = "one"
scope = "deployment:qwen3-max-abc"
amount_usd = 99.99

[alerts]
idle_hours = 3
"""


def _write(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path.write_text(text)
    monkeypatch.setenv("MODELDECK_CONFIG", str(path))


def test_budgets_from_modeldeck_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "modeldeck.toml", TOML, monkeypatch)
    settings = load_settings()
    team, search, one = settings.budgets
    assert team.amount_usd == Decimal(5000) and isinstance(team.amount_usd, Decimal)
    assert str(team.scope) == "workspace" and team.thresholds == [50, 80, 100]
    assert not team.hard and search.hard
    assert search.scope.kind == "tag" and (search.scope.key, search.scope.value) == (
        "team",
        "search",
    )
    assert search.amount_usd == Decimal("1200.50")
    assert search.thresholds == [50, 80, 100]  # the default
    assert one.amount_usd == Decimal("99.99")  # a TOML float keeps the digits as written
    assert str(one.scope) == "deployment:qwen3-max-abc"
    assert settings.alerts.idle_hours == 3
    assert settings.alerts.expiry_warn_hours == [24, 2]


def test_no_budgets_by_default() -> None:
    assert load_settings().budgets == []


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('scope = "team:search"', 'use "workspace"'),
        ('scope = "tag:team"', "tag:<key>=<value>"),
        ('scope = "deployment:"', "is not a scope"),
        ('period = "all"', "it never ends"),
        ('period = "last-month"', "already over"),
        ('period = "7d"', "rolling duration"),
        ('period = "fortnight"', "month, week, today, year"),
        ("thresholds = []", "at least one percentage"),
        ("thresholds = [0, 80]", "from 1 to 1000"),
        ("colour = 1", "Extra inputs are not permitted"),
    ],
)
def test_bad_budget_is_explained(
    entry: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "modeldeck.toml",
        f'[[budgets]]\nname = "b"\namount_usd = 10\n{entry}\n',
        monkeypatch,
    )
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "budgets.0" in info.value.message and says in info.value.message


def test_amount_must_be_positive_and_names_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "a.toml", '[[budgets]]\nname = "b"\namount_usd = 0\n', monkeypatch)
    with pytest.raises(ConfigError, match="greater than 0"):
        load_settings()
    twice = '[[budgets]]\nname = "b"\namount_usd = 1\n' * 2
    _write(tmp_path / "b.toml", twice, monkeypatch)
    with pytest.raises(ConfigError, match="two budgets are named 'b'"):
        load_settings()


def test_scope_matching_takes_tags_as_input() -> None:
    dep = BudgetTarget(
        id="dep_1", deployed_model="qwen3-max-abc", name="chat", tags={"team": "search"}
    )
    other = BudgetTarget(id="dep_2", tags={"team": "ads"})
    assert parse_scope("workspace").matches(dep) and parse_scope("workspace").matches(other)
    for ref in ("dep_1", "qwen3-max-abc", "chat"):
        assert parse_scope(f"deployment:{ref}").matches(dep)
    assert not parse_scope("deployment:dep_1").matches(other)
    assert parse_scope("tag:team=search").matches(dep)
    assert not parse_scope("tag:team=search").matches(other)
    assert not parse_scope("tag:owner=search").matches(dep)


def test_period_bounds_are_whole_beijing_periods() -> None:
    # 2026-03-31 20:00 UTC is already April 1st in Beijing.
    now = datetime(2026, 3, 31, 20, 0, tzinfo=BEIJING).astimezone(BEIJING)
    assert period_bounds("month", datetime.fromisoformat("2026-03-31T20:00:00+00:00")) == (
        datetime(2026, 4, 1, tzinfo=BEIJING),
        datetime(2026, 5, 1, tzinfo=BEIJING),
    )
    assert period_bounds("month", now) == (
        datetime(2026, 3, 1, tzinfo=BEIJING),
        datetime(2026, 4, 1, tzinfo=BEIJING),
    )
    assert period_bounds("week", now)[0] == datetime(2026, 3, 30, tzinfo=BEIJING)  # Monday
    assert period_bounds("2026-02", now) == (
        datetime(2026, 2, 1, tzinfo=BEIJING),
        datetime(2026, 3, 1, tzinfo=BEIJING),
    )
    assert period_bounds("2026-03-01..2026-03-07", now)[1] == datetime(2026, 3, 8, tzinfo=BEIJING)
    assert period_bounds("year", now)[1] == datetime(2027, 1, 1, tzinfo=BEIJING)


def test_threshold_amounts_are_exact() -> None:
    budget = Budget(name="b", amount_usd=Decimal("333.33"), thresholds=[100, 80, 50, 80])
    assert budget.thresholds == [50, 80, 100]
    assert budget.amount_at(80) == Decimal("266.664")
