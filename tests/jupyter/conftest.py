"""Fixtures for the notebook panel: a real modeldeck stack (sandbox, store, deck, server)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from modeldeck.testing import Stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """A stack whose policy sends every deploy to approvers (the default: threshold 0)."""
    with Stack() as running:
        yield running


@pytest.fixture(scope="module")
def auto_stack() -> Iterator[Stack]:
    """A stack that auto-approves deploys under $100,000 a day, so they execute at once."""
    with Stack(policy={"auto_approve_below_usd_per_day": Decimal("100000")}) as running:
        yield running
