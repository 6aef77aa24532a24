"""Schedule tests: a fast sandbox per test (capacity operations end quickly)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modeldeck.sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(deploy_delay_seconds=0.05, operation_delay_seconds=0.05) as running:
        yield running
