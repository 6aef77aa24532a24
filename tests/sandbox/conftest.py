"""Fixtures for the sandbox and client tests: sandboxes served on 127.0.0.1 with fast delays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from modeldeck.provider import ModelStudioClient
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from tests.sandbox.sbhelpers import MakeSandbox


@pytest.fixture
def make_sandbox() -> Iterator[MakeSandbox]:
    """Start sandboxes with config overrides; all are stopped after the test."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> RunningSandbox:
            return stack.enter_context(running_sandbox(**overrides))

        yield make


@pytest.fixture
def sb(make_sandbox: MakeSandbox) -> RunningSandbox:
    """A default fast sandbox."""
    return make_sandbox()


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[ModelStudioClient]:
    with sb.client() as c:
        yield c
