"""docs/example_plugin.py, loaded as a plugin: its verb runs on the CLI, in Slack and in notebooks.

Also covers the three hooks it implements (register_verbs, register_renderers,
register_commands) and that plugins' renderers are looked up by result type and surface.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from modeldeck import plugins
from modeldeck.errors import ConfigError, GrammarError
from modeldeck.grammar import help_text, parse, validate_command
from modeldeck.rendering import RendererRegistry, render
from modeldeck.results import Result, result_from_json

EXAMPLE = Path(__file__).parents[2] / "docs" / "example_plugin.py"


@pytest.fixture
def example() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("modeldeck_example_plugin", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    plugins.reset_plugin_manager()
    plugins.get_plugin_manager().register(module, name="afford-example")
    yield module
    plugins.reset_plugin_manager()
    sys.modules.pop(spec.name, None)


def test_the_verb_parses_with_its_model_keys_and_help(example: ModuleType) -> None:
    command = parse("afford qwen3-32b 2 budget=100")
    assert isinstance(command, example.AffordCommand)
    assert (command.model, command.units, str(command.budget)) == ("qwen3-32b", 2, "100")
    assert "afford <model> <units> budget=<USD>" in help_text()
    assert "budget=<USD>  money to spend, in dollars; for afford" in help_text("afford")
    with pytest.raises(GrammarError, match="Allowed: budget"):
        parse("afford qwen3-32b 2 budgte=100")
    # the server validates the JSON a RemoteDeck sends with the same model
    assert validate_command(command.model_dump(mode="json")) == command


def test_the_verb_runs_through_the_cli(example: ModuleType) -> None:
    from modeldeck.cli import build_cli

    runner = CliRunner()
    out = runner.invoke(build_cli(), ["afford", "qwen3-32b", "2", "budget=100"])
    assert out.exit_code == 0, out.output
    assert (
        out.output.strip()
        == "$100.00 runs qwen3-32b with 2 unit(s) for 1.25 hours at $80.00 per hour."
    )
    as_json = runner.invoke(build_cli(), ["afford", "qwen3-32b", "2", "budget=100", "--json"])
    data = json.loads(as_json.output)
    assert data["kind"] == "afford" and data["per_hour"] == "80"
    assert isinstance(result_from_json(data), example.AffordResult)
    table = runner.invoke(build_cli(), ["afford-table", "qwen3-32b", "100"])  # register_commands
    assert table.exit_code == 0, table.output
    assert "1 unit(s): 2.50 hours" in table.output and "4 unit(s): 0.62 hours" in table.output


def test_the_verb_renders_in_slack_and_in_the_notebook(example: ModuleType) -> None:
    result = example.AffordResult(model="qwen3-32b", units=2, budget=100, per_hour=80)
    card = render(result, "slack")
    blocks = card.block_dicts()
    assert "*$100.00 runs qwen3-32b" in blocks[0]["text"]["text"]
    assert [f["text"] for f in blocks[1]["fields"]][2] == "*Runs for*\n1.25 hours"
    html = render(result, "html")
    assert "modeldeck-afford-hours" in html and "tex2jax_ignore" in html
    assert "$" not in html.replace('<span class="modeldeck-dollar">$</span>', "")


def test_a_result_without_its_own_renderer_falls_back_to_its_base() -> None:
    class Plain(Result):
        kind: str = "plain-test"

    registry = RendererRegistry()
    registry.register(Result, "text", lambda result, **_: f"base {result.kind}")
    assert registry.render(Plain(), "text") == "base plain-test"
    with pytest.raises(ConfigError, match="Two renderers for Result on 'text'"):
        registry.register(Result, "text", lambda result, **_: "again")
    with pytest.raises(LookupError):
        registry.render(Plain(), "slack")


def test_a_verb_name_taken_is_refused(example: ModuleType) -> None:
    from modeldeck.grammar.verbs import _register_into

    with pytest.raises(ConfigError, match="already taken"):
        _register_into({})("estimate", example.AffordCommand, example.run_afford)
