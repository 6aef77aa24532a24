"""Billing decisions are overridable from configuration, and bad overrides are clear errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec
from modeldeck.errors import ConfigError
from modeldeck.settings import Settings

EXAMPLE_3 = DeploySpec(model="qwen3-32b", plan="mu", units=2, duration_seconds=90 * 60 + 30)


def test_default_rules_give_worked_example_3(tmp_path: Path) -> None:
    deck = Deck(Settings(data_dir=tmp_path))
    assert Decimal(deck.estimate(EXAMPLE_3).total).quantize(Decimal("0.01")) == Decimal("121.33")
    deck.close()


def test_hourly_granularity_from_config_changes_the_estimate(tmp_path: Path) -> None:
    deck = Deck(Settings(data_dir=tmp_path, billing={"time_granularity_seconds": 3600}))
    # 90 min 30 s billed as 2 started hours: 2 units x $40 x 2 h
    assert Decimal(deck.estimate(EXAMPLE_3).total) == Decimal("160")
    deck.close()


def test_bad_billing_override_is_a_config_error(tmp_path: Path) -> None:
    deck = Deck(Settings(data_dir=tmp_path, billing={"cancel_factor": "lots"}))
    with pytest.raises(ConfigError, match=r"Invalid \[billing\] rules.*cancel_factor"):
        deck.estimate(EXAMPLE_3)
    deck.close()
