"""Executions and imports build deployment rows through one mapping (they used to drift apart)."""

from __future__ import annotations

import ast
import pathlib
from typing import Any

import pytest

import modeldeck
from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec
from modeldeck.provider import build_create_body
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import running_sandbox
from modeldeck.settings import Settings

ROOT = pathlib.Path(modeldeck.__file__).parent
THINKING = DeploySpec(
    model="qwen-plus-2025-12-01",
    plan="ptu",
    mode="thinking",
    input_tpm=10000,
    output_tpm=1000,
    thinking_output_tpm=1000,
)


def test_deployment_rows_are_built_in_one_place() -> None:
    builders = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "DeploymentRow"
            ):
                builders.append(str(path.relative_to(ROOT)))
    assert builders and set(builders) == {"store/deployments.py"}, builders


def test_an_import_keeps_what_an_execution_keeps(tmp_path: Any) -> None:
    """A deployment made in the console and one made by modeldeck store the same capacity.

    The legacy generation is the one whose PTU capacity carries a thinking output TPM.
    """
    with running_sandbox(api_generation="legacy") as sb:
        deck = Deck(
            Settings(
                data_dir=tmp_path,
                sandbox={"host": sb.server.host, "port": sb.server.port},
                provider={"api_generation": "legacy"},
            )
        )
        try:
            outside = deck.provider.create_deployment(build_create_body(THINKING))
            Reconciler(deck).run_once()
            imported = deck.get_deployment(outside.deployed_model)
            assert imported.imported
            assert (imported.plan, imported.mode) == ("ptu", "thinking")
            assert (imported.input_tpm, imported.output_tpm) == (10000, 1000)
            assert imported.thinking_output_tpm == 1000  # the old import mapping dropped it
        finally:
            deck.close()


@pytest.mark.slow
def test_nothing_outside_the_store_runs_sqlalchemy() -> None:
    """Workflow, identity, audit and the deck reach the store only through store/ repositories.

    metering/ keeps its own queries (its batch writer and rollups), and up.py parses a URL.
    """
    allowed = {"up.py"}
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("store", "metering", "sandbox") or str(rel) in allowed:
            continue
        tree = ast.parse(path.read_text())
        type_only = {
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
            for child in ast.walk(node)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import) and id(node) not in type_only:
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                if any(n == "sqlalchemy" or n.startswith("sqlalchemy.") for n in names):
                    offenders.append(str(rel))
    assert offenders == []
