"""`/deck cost … chart`, `/deck plan … chart`, `/deck usage <deployment> [hours=N] chart`,
`/deck budget [<name>] chart`: the core's chart drawn as a PNG and shared in the channel with
the upload flow (uploads.py); every chart comes through `DeckAPI`.

The word `chart` is Slack's: the rest of the text is the same command the grammar reads
(`cost` runs with its forecast, so the image shows spend to date and what is still to come).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from modeldeck.charts.data import Chart, CostCurveChart, SpendChart, SpendPoint
from modeldeck.domain import Actor
from modeldeck.errors import UserError

log = logging.getLogger(__name__)

CHART_WORD = "chart"
CHART_VERBS = ("cost", "plan", "usage", "budget")
MAX_USAGE_HOURS = 24 * 7


def chart_text(text: str) -> str | None:
    """The command without its `chart` word when `text` asks for a chart, else None."""
    words = text.split()
    if len(words) < 2 or words[0].lower() not in CHART_VERBS:
        return None
    if not any(w.lower() == CHART_WORD for w in words[1:]):
        return None
    return " ".join(w for w in words if w.lower() != CHART_WORD)


def spend_chart_of(report: Any, title: str) -> SpendChart:
    """A forecast report as a spend chart: actual to now, then the forecast to the period end."""
    to_date = sum((f.to_date for f in report.forecasts), Decimal(0))
    total = sum((f.total for f in report.forecasts), Decimal(0))
    currency = report.forecasts[0].currency if report.forecasts else "USD"
    now = min(max(report.now, report.period_start), report.period_end)
    return SpendChart(
        title=title,
        currency=currency,
        actual=[
            SpendPoint(at=report.period_start, amount=Decimal(0)),
            SpendPoint(at=now, amount=to_date),
        ],
        forecast=[
            SpendPoint(at=now, amount=to_date),
            SpendPoint(at=report.period_end, amount=total),
        ],
    )


def cost_chart(deck: Any, actor: Actor, text: str) -> tuple[Chart, str]:
    """`cost [<deployment>|all] [period=…]` as the spend chart (with the forecast)."""
    from modeldeck.grammar import parse
    from modeldeck.grammar.commands import CostCommand
    from modeldeck.results import ForecastResult

    command = parse(text)
    if not isinstance(command, CostCommand):
        raise UserError(f"`{text}` is not a cost command.", hint="e.g. /deck cost all chart")
    result = deck.run(command.model_copy(update={"forecast": True}), actor)
    if not isinstance(result, ForecastResult):
        raise UserError("The cost command gave no forecast to chart.")
    report = result.report
    scope = command.target or "all deployments"
    title = f"Spend this {report.period} ({scope})"
    return spend_chart_of(report, title), title


def plan_chart(deck: Any, actor: Actor, text: str) -> tuple[Chart, str]:
    """`plan <model> …` as the planner's cost curve (hourly PTU, the cheapest point marked)."""
    from modeldeck.grammar import parse
    from modeldeck.grammar.commands import PlanCommand
    from modeldeck.results import CapacityPlanResult

    command = parse(text)
    if not isinstance(command, PlanCommand) or command.apply:
        raise UserError("A plan chart draws a plan, it does not apply one.", hint="Drop `apply`.")
    result = deck.run(command, actor)
    if not isinstance(result, CapacityPlanResult):
        raise UserError("The plan gave no cost curve to chart.")
    plan = result.plan
    if not plan.curve:
        raise UserError(
            f"The planner drew no cost curve for {plan.model} (no hourly PTU option).",
            hint="Cost curves are for models sold as PTU.",
        )
    points = [(p.input_tpm, p.total) for p in plan.curve]
    title = f"{plan.model}: cost vs input capacity (hourly PTU)"
    chart = CostCurveChart(
        title=title,
        currency=plan.currency,
        per=f"{plan.trace.minutes} min trace",
        points=points,
        recommended=min(points, key=lambda p: p[1]),
    )
    return chart, title


def usage_chart(deck: Any, actor: Actor, text: str) -> tuple[Chart, str]:
    """`usage <deployment> [hours=N]`: input tokens per minute against the purchased TPM."""
    from modeldeck.identity.permissions import require
    from modeldeck.timeutil import utcnow

    words = text.split()[1:]
    hours = 24
    refs = []
    for word in words:
        if word.lower().startswith("hours="):
            try:
                hours = int(word.split("=", 1)[1])
            except ValueError:
                raise UserError(f"hours must be a whole number, not {word[6:]!r}.") from None
            if not 1 <= hours <= MAX_USAGE_HOURS:
                raise UserError(f"hours must be from 1 to {MAX_USAGE_HOURS}.")
        else:
            refs.append(word)
    if len(refs) != 1:
        raise UserError(
            "Which deployment? `/deck usage <deployment> [hours=24] chart`.",
            hint="`/deck list` shows the deployments.",
        )
    require(actor, "read")
    until = utcnow()
    chart = deck.usage_chart(refs[0], until - timedelta(hours=hours), until)
    return chart, chart.title


def budget_chart(deck: Any, actor: Actor, text: str) -> tuple[Chart, str]:
    """`budget [<name>]`: the budget's spend per day, the forecast and the budget line."""
    from modeldeck.identity.permissions import require

    require(actor, "read")
    words = text.split()[1:]
    if len(words) > 1:
        raise UserError("Which budget? `/deck budget [<name>] chart`.")
    if words:
        name = words[0]
    else:
        lines = deck.budgets().lines
        if not lines:
            raise UserError(
                "There is no budget to chart.",
                hint="Add [[budgets]] to modeldeck.toml, or: budget set name=<n> amount=<USD>",
            )
        name = lines[0].forecast.budget.name
    chart = deck.budget_chart(name)
    return chart, chart.title


BUILDERS = {
    "cost": cost_chart,
    "plan": plan_chart,
    "usage": usage_chart,
    "budget": budget_chart,
}


def build_chart(deck: Any, actor: Actor, text: str) -> tuple[bytes, str]:
    """The chart a `… chart` command asks for, as PNG bytes and a title (runs in a worker)."""
    from modeldeck.charts import render

    verb = text.split(maxsplit=1)[0].lower()
    chart, title = BUILDERS[verb](deck, actor, text)
    return render(chart, "png"), title


def sync_twin(client: Any) -> Any:
    """A sync WebClient with the async client's token and base URL (the team's token under
    OAuth), for the upload steps in a worker thread."""
    from slack_sdk import WebClient

    return WebClient(token=client.token, base_url=client.base_url, timeout=15)


async def chart_command(
    bot: Any, ack: Any, respond: Any, client: Any, text: str, origin: Any
) -> None:
    """Ack at once; draw the chart in a worker; share it in the channel; say where or why not."""
    import asyncio

    from slack_sdk.errors import SlackApiError, SlackClientError

    from modeldeck.errors import ModeldeckRuntimeError
    from modeldeck_slack.cards import slack_error
    from modeldeck_slack.uploads import upload_png

    await ack(text="Working on it: drawing the chart…", response_type="ephemeral")
    channel = origin.channel
    try:
        actor = await bot._actor(origin.user)
        data, title = await asyncio.to_thread(build_chart, bot.deck, actor, text)
        if not channel:
            raise UserError("Type `… chart` in a channel the bot is in, to share the image there.")
        await asyncio.to_thread(
            upload_png,
            sync_twin(client),
            data,
            filename=f"modeldeck-{text.split()[0].lower()}.png",
            title=title,
            channel=channel,
            alt_text=title,
        )
        answer = f"Shared *{title}* in <#{channel}>."
    except UserError as exc:
        answer = f":warning: {exc}"
    except SlackApiError as exc:
        code = slack_error(exc)
        hint = " Invite the bot to this channel first." if code == "not_in_channel" else ""
        answer = f":warning: Slack would not take the chart ({code}).{hint}"
    except (SlackClientError, ModeldeckRuntimeError) as exc:
        answer = f":warning: The chart could not be shared right now: {type(exc).__name__}."
    except Exception:
        log.exception("the %s chart failed", text.split()[0])
        answer = ":warning: The chart could not be drawn; the server log has the details."
    try:
        await respond(text=answer, response_type="ephemeral", replace_original=False)
    except Exception as exc:
        log.warning("could not answer a chart command: %s", type(exc).__name__)
