"""The core's default renderers, registered like any plugin's (`register_renderers`, through
the light `modeldeck.default_plugins.renderers`, which imports this when renderers are needed).

`text` for every result (the same words on every surface), `cli` (rich tables drawn from the
result, never from re-parsed text) and `json` (the shapes `--json` has always printed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text

from modeldeck import render
from modeldeck import results as r
from modeldeck.billing.render import render_estimate_text
from modeldeck.cli_render import Printable, estimate_printables, listing, rows_table
from modeldeck.grammar import help_text
from modeldeck.money import format_amount
from modeldeck.schedules import text as schedule_text
from modeldeck.spend import text as spend_text

Register = Callable[[type, str, Callable[..., Any]], None]


def register_renderers(register: Register) -> None:
    """Text, CLI and JSON renderings of every built-in result."""
    register_text_renderers(register)
    register_cli_renderers(register)
    register_json_renderers(register)


def register_text_renderers(register: Register) -> None:
    """The core's `text` renderer for every result type."""

    def decision(result: r.DecisionResult, **_: Any) -> str:
        return result.outcome.message + "\n" + render.request_text(result.outcome.request)

    register(r.Result, "text", lambda result, **_: result.model_dump_json(indent=2))
    register(r.HelpResult, "text", lambda result, **_: help_text(result.topic))
    register(r.ModelsResult, "text", lambda result, **_: render.models_text(result.rows))
    register(r.EstimateResult, "text", lambda result, **_: render_estimate_text(result.estimate))
    register(r.ComparisonResult, "text", lambda result, **_: render_estimate_text(result.estimate))
    register(r.RequestResult, "text", lambda result, **_: render.request_text(result.request))
    register(r.DecisionResult, "text", decision)
    register(r.DeploymentsResult, "text", deployments_text)
    register(r.DeploymentStatusResult, "text", status_text)
    register(
        r.SchedulesResult,
        "text",
        lambda result, **_: schedule_text.schedules_text(result.schedules),
    )
    register(r.ApprovalsResult, "text", lambda result, **_: render.requests_text(result.requests))
    register(r.CostResult, "text", lambda result, **_: render.cost_text(result.report))
    register(r.CapacityPlanResult, "text", plan_text)
    register(r.ForecastResult, "text", lambda result, **_: spend_text.forecast_text(result.report))
    register(r.BudgetResult, "text", lambda result, **_: spend_text.budget_view_text(result.report))
    register(
        r.BudgetSetResult, "text", lambda result, **_: spend_text.budget_set_text(result.budget)
    )
    register(r.AlertsResult, "text", lambda result, **_: spend_text.alerts_text(result.report))


def register_cli_renderers(register: Register) -> None:
    """The core's `cli` renderers (anything else prints its `text`)."""

    def text(result: Any, **_: Any) -> Sequence[Printable]:
        return [result.text]

    def cost(result: r.CostResult, **_: Any) -> list[Printable]:
        report = result.report
        rows = render.cost_rows(report)
        body: Printable = rows_table(rows) if rows[1] else "No deployments."
        total = Text(f"Total: {format_amount(report.total, report.currency)}", style="bold")
        return [render.cost_heading(report), body, total]

    register(r.Result, "cli", text)
    register(r.EstimateResult, "cli", estimate_printables)
    register(r.ComparisonResult, "cli", estimate_printables)

    def deployments(result: r.DeploymentsResult, **_: Any) -> list[Printable]:
        shown = listing(render.deployment_rows(result.deployments), render.deployments_text([]))
        footer = _next_changes(result)
        return [*shown, footer] if footer else list(shown)

    register(r.DeploymentsResult, "cli", deployments)
    register(
        r.ApprovalsResult,
        "cli",
        lambda result, **_: listing(render.request_rows(result.requests), result.text),
    )
    register(
        r.ModelsResult,
        "cli",
        lambda result, **_: listing(render.model_rows(result.rows), result.text),
    )
    register(r.CostResult, "cli", cost)
    register(r.CapacityPlanResult, "cli", plan_printables)

    def budget(result: r.BudgetResult, **_: Any) -> list[Printable]:
        if not result.report.lines:
            return [result.text]
        return [rows_table(spend_text.budget_rows(result.report)),
                *spend_text.budget_notes(result.report)]  # fmt: skip

    def alerts(result: r.AlertsResult, **_: Any) -> list[Printable]:
        rows = spend_text.alert_rows(result.report.alerts)
        body: Printable = rows_table(rows) if rows[1] else "No alerts this month."
        return [spend_text.alerts_heading(result.report), body]

    register(r.BudgetResult, "cli", budget)
    register(r.AlertsResult, "cli", alerts)


def register_json_renderers(register: Register) -> None:
    """`--json`: each result as the JSON the CLI has always printed for its verb."""

    def dump(model: Any) -> Any:
        return model.model_dump(mode="json")

    def status(result: r.DeploymentStatusResult, **_: Any) -> dict[str, Any]:
        data: dict[str, Any] = dump(result.deployment)
        data["cost_so_far"] = {
            "total": str(result.cost_so_far),
            "currency": result.currency,
            "price_known": not result.unpriced and result.deployment.price_note is None,
            "unpriced": list(result.unpriced),
        }
        if result.schedule is not None:  # its schedule and next change (docs/schedules.md)
            data["schedule"] = dump(result.schedule)
        return data

    def cost(result: r.CostResult, **_: Any) -> dict[str, Any]:
        return result.report.as_data()

    register(r.Result, "json", lambda result, **_: dump(result))
    register(r.HelpResult, "json", lambda result, **_: {"text": result.text})
    register(r.ModelsResult, "json", lambda result, **_: [dump(row) for row in result.rows])
    register(r.EstimateResult, "json", lambda result, **_: dump(result.estimate))
    register(r.ComparisonResult, "json", lambda result, **_: dump(result.estimate))
    register(r.RequestResult, "json", lambda result, **_: dump(result.request))
    register(r.DecisionResult, "json", lambda result, **_: dump(result.outcome))
    register(r.DeploymentsResult, "json", lambda result, **_: [dump(d) for d in result.deployments])
    register(r.DeploymentStatusResult, "json", status)
    register(r.ApprovalsResult, "json", lambda result, **_: [dump(q) for q in result.requests])
    register(r.CostResult, "json", cost)
    register(r.CapacityPlanResult, "json", plan_json)


def _next_changes(result: r.DeploymentsResult) -> str:
    names = {d.id: d.deployed_model or d.id for d in result.deployments}
    return schedule_text.next_changes_text(result.next_changes, names)


def deployments_text(result: r.DeploymentsResult, **_: Any) -> str:
    """The deployments, then each one's next scheduled capacity change."""
    footer = _next_changes(result)
    body = render.deployments_text(result.deployments)
    return f"{body}\n\n{footer}" if footer else body


def status_text(result: r.DeploymentStatusResult, **_: Any) -> str:
    """One deployment, its cost so far, and its schedule (next change, or why it is paused)."""
    text = render.status_text(
        result.deployment, result.cost_so_far, result.currency, result.unpriced
    )
    if result.schedule is not None:
        text += "\n" + schedule_text.schedule_status_text(result.schedule)
    return text


def plan_text(result: r.CapacityPlanResult, **_: Any) -> str:
    """The plan as text, then the request `apply` made (if any)."""
    from modeldeck.planner import render_plan_text

    text = render_plan_text(result.plan)
    if result.request is not None:
        text += "\n\n" + render.request_text(result.request)
    return text


def plan_printables(result: r.CapacityPlanResult, **_: Any) -> list[Printable]:
    """The ranked options as a table, then the plan's full text (reasoning, notes, request)."""
    from modeldeck.cli_render import plan_table

    return [plan_table(result.plan), plan_text(result)]


def plan_json(result: r.CapacityPlanResult, **_: Any) -> dict[str, Any]:
    """`--json`: the planner's answer (options with billing, input_tpm, output_tpm, reserved,
    overflow, total as decimal strings, and the reasoning), plus the request `apply` made."""
    data: dict[str, Any] = result.plan.model_dump(mode="json")
    if result.deployment is not None:
        data["deployment"] = result.deployment
    if result.request is not None:
        data["request"] = result.request.model_dump(mode="json")
    return data
