"""The Slack plugin's `slack` renderers: each result type's Block Kit card.

Registered through `register_renderers` in `modeldeck_slack.plugin` (lazily, so slack_sdk is
imported only when a card is drawn); every renderer takes the result and the context the bot
passes (`people`: principal -> Slack user id, `origin`: the command's `SlackOrigin`). A result
type with no card of its own is its text in a code block (`result_card`). Each card is passed
through `paging.fit` (the 50-block safety net; the answers page themselves before that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modeldeck import results as r
from modeldeck_slack.answers import approvals_card, cost_card, decision_card, request_answer
from modeldeck_slack.blocks import Card, result_card
from modeldeck_slack.context import SlackOrigin
from modeldeck_slack.deployment_cards import list_card, status_card
from modeldeck_slack.help_card import help_card
from modeldeck_slack.paging import command_of
from modeldeck_slack.plan_cards import plan_card, schedules_card
from modeldeck_slack.price_cards import estimate_card, models_card
from modeldeck_slack.spend_cards import alerts_card, budget_card, budget_set_card, forecast_card


def _people(context: Mapping[str, Any]) -> Mapping[str, str] | None:
    people: Mapping[str, str] | None = context.get("people")
    return people


def _origin(context: Mapping[str, Any]) -> SlackOrigin | None:
    origin: SlackOrigin | None = context.get("origin")
    return origin


def text(result: r.Result, **context: Any) -> Card:
    return result_card(result)


def cost(result: r.CostResult, **context: Any) -> Card:
    return cost_card(result.report, command_of(context))


def help_topic(result: r.HelpResult, **_: Any) -> Card:
    return help_card(result.topic)


def models(result: r.ModelsResult, **context: Any) -> Card:
    return models_card(result.rows, command_of(context), int(context.get("start") or 0))


def estimate(result: r.EstimateResult, **context: Any) -> Card:
    return estimate_card(result.estimate, command_of(context))


def comparison(result: r.ComparisonResult, **context: Any) -> Card:
    verdict = result.verdict
    headline = verdict.headline if verdict is not None else None
    return estimate_card(result.estimate, command_of(context), compare=True, verdict=headline)


def deployments(result: r.DeploymentsResult, **context: Any) -> Card:
    return list_card(
        result.deployments,
        command_of(context),
        int(context.get("start") or 0),
        include_deleted=result.include_deleted,
        next_changes=result.next_changes,
    )


def status(result: r.DeploymentStatusResult, **_: Any) -> Card:
    return status_card(
        result.deployment,
        result.cost_so_far,
        result.currency,
        result.unpriced,
        schedule=result.schedule,
    )


def approvals(result: r.ApprovalsResult, **context: Any) -> Card:
    return approvals_card(result.requests, _people(context))


def decision(result: r.DecisionResult, **context: Any) -> Card:
    origin = _origin(context)
    updated = origin is not None and result.outcome.request.id in origin.updated
    return decision_card(result.outcome, card_updated=updated, people=_people(context))


def request(result: r.RequestResult, **context: Any) -> Card:
    return request_answer(result.request, _origin(context))


def _start(context: Mapping[str, Any]) -> int:
    return int(context.get("start") or 0)


def forecast(result: r.ForecastResult, **context: Any) -> Card:
    return forecast_card(result.report, command_of(context), _start(context))


def budget(result: r.BudgetResult, **context: Any) -> Card:
    return budget_card(result.report, command_of(context), _start(context))


def budget_set(result: r.BudgetSetResult, **_: Any) -> Card:
    return budget_set_card(result.budget)


def alerts(result: r.AlertsResult, **context: Any) -> Card:
    return alerts_card(result.report, command_of(context), _start(context))


def plan(result: r.CapacityPlanResult, **context: Any) -> Card:
    return plan_card(result, command_of(context))


def schedules(result: r.SchedulesResult, **context: Any) -> Card:
    return schedules_card(result.schedules, command_of(context), _start(context))
