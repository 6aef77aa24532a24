"""A worked example plugin: the `afford` verb, with its text, Slack and notebook renderings.

`afford <model> <units> budget=<USD>` answers "how long does this budget run <units> model units
of <model>, billed hourly?" It shows each extension point a verb needs:

- `register_verbs`: the command model (the single source of the verb's keys), how its words map
  to fields, the `budget` key the grammar did not know, and the handler that runs it;
- `register_renderers`: the result's text (every surface's fallback), a Slack card (Block Kit)
  and notebook HTML (a Jinja2 template: autoescaped, `$` kept from MathJax);
- `register_commands`: a CLI command of its own, `modeldeck afford-table`.

Install it like any plugin (an entry point in the `modeldeck` group), or register the module with
`modeldeck.plugins.get_plugin_manager().register(module)`; docs/plugins.md walks through it and
tests/core/test_example_plugin.py runs it through the CLI, the Slack renderer and the notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar, Literal

from modeldeck.domain import Actor, DeploySpec
from modeldeck.grammar import CommandModel, KeyInfo
from modeldeck.hookspecs import hookimpl
from modeldeck.money import format_amount
from modeldeck.results import Result


class AffordCommand(CommandModel):
    """`afford <model> <units> budget=<USD>`: how long a budget runs MU capacity."""

    verb: Literal["afford"] = "afford"
    model: str
    units: int
    budget: Decimal
    keys: ClassVar[tuple[str, ...]] = ("budget",)


class AffordResult(Result):
    """How many hours `budget` buys of `units` units of `model` at its hourly price."""

    kind: Literal["afford"] = "afford"
    model: str
    units: int
    budget: Decimal
    per_hour: Decimal
    currency: str = "USD"

    @property
    def hours(self) -> Decimal:
        """Whole hours the budget pays for (a started hour is billed by the minute, so round down
        to stay inside the budget)."""
        return (self.budget / self.per_hour).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")


def run_afford(deck: Any, command: AffordCommand, actor: Actor) -> AffordResult:
    """The handler: price one hour with the deck's own estimate (local or remote alike)."""
    spec = DeploySpec(model=command.model, plan="mu", units=command.units, hours=Decimal(1))
    estimate = deck.estimate(spec)
    return AffordResult(
        model=command.model,
        units=command.units,
        budget=command.budget,
        per_hour=estimate.total,
        currency=estimate.currency,
    )


def afford_text(result: AffordResult, **_: Any) -> str:
    budget = format_amount(result.budget, result.currency)
    rate = format_amount(result.per_hour, result.currency)
    return (
        f"{budget} runs {result.model} with {result.units} unit(s) for {result.hours} hours "
        f"at {rate} per hour."
    )


def afford_slack(result: AffordResult, **_: Any) -> Any:
    """A Block Kit card: the answer, and the figures as fields."""
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    from modeldeck_slack.blocks import Card, escape

    fields = [
        MarkdownTextObject(text=f"*Budget*\n{format_amount(result.budget, result.currency)}"),
        MarkdownTextObject(text=f"*Per hour*\n{format_amount(result.per_hour, result.currency)}"),
        MarkdownTextObject(text=f"*Runs for*\n{result.hours} hours"),
    ]
    head = SectionBlock(text=MarkdownTextObject(text=f"*{escape(afford_text(result))}*"))
    return Card(text=escape(afford_text(result)), blocks=[head, SectionBlock(fields=fields)])


AFFORD_TEMPLATE = """\
<div class='modeldeck-afford'><b>{{ budget }}</b> runs {{ model }} × {{ units }} unit(s) for
<b class='modeldeck-afford-hours'>{{ hours }} hours</b> at {{ rate }} per hour.</div>"""


def afford_html(result: AffordResult, **_: Any) -> str:
    from modeldeck_jupyter.html import render_html

    return render_html(
        AFFORD_TEMPLATE,
        budget=format_amount(result.budget, result.currency),
        rate=format_amount(result.per_hour, result.currency),
        model=result.model,
        units=result.units,
        hours=result.hours,
    )


@hookimpl
def register_verbs(register: Callable[..., None]) -> None:
    register(
        "afford",
        AffordCommand,
        run_afford,
        usage="afford <model> <units> budget=<USD>",
        description="How long a budget runs MU capacity, billed hourly.",
        examples=("afford qwen3-32b 2 budget=100",),
        positional=("model", "units"),
        keys=(KeyInfo("budget", "<USD>", "money to spend, in dollars"),),
    )


@hookimpl
def register_renderers(register: Callable[..., None]) -> None:
    register(AffordResult, "text", afford_text)
    register(AffordResult, "slack", afford_slack)
    register(AffordResult, "html", afford_html)


@hookimpl
def register_commands(cli: Any) -> None:
    import click

    @cli.command(name="afford-table")
    @click.argument("model")
    @click.argument("budget")
    def afford_table(model: str, budget: str) -> None:
        """Hours BUDGET buys of 1 to 4 units of MODEL (from the catalog alone, no store)."""
        from modeldeck.commands import run_without_store
        from modeldeck.grammar import parse
        from modeldeck.results import EstimateResult
        from modeldeck.settings import load_settings

        settings = load_settings()
        for units in range(1, 5):
            result = run_without_store(
                parse(f"estimate {model} mu units={units} hours=1"), settings
            )
            assert isinstance(result, EstimateResult)
            per_hour = result.estimate.total
            hours = (Decimal(budget) / per_hour).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
            click.echo(f"{units} unit(s): {hours} hours")
