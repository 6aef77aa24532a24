"""Run one command of the grammar against a deck: the same words do the same thing everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modeldeck import render
from modeldeck.domain import Actor, CommandResult
from modeldeck.money import format_amount

if TYPE_CHECKING:
    from modeldeck.deck import Deck


def run_command(deck: Deck, text: str, actor: Actor) -> CommandResult:
    """Parse `text` and run it; user mistakes raise UserError subclasses for the surface to show."""
    from modeldeck.grammar import parse

    return run_parsed(deck, parse(text), actor)


def run_parsed(deck: Deck, cmd: Any, actor: Actor) -> CommandResult:
    from modeldeck.billing import render_estimate_text
    from modeldeck.grammar import help_text

    verb = cmd.verb
    if verb == "help":
        return CommandResult(command=verb, text=help_text(cmd.topic))
    if verb == "models":
        rows = deck.models()
        return CommandResult(command=verb, text=render.models_text(rows), data=rows)
    if verb == "estimate":
        est = deck.estimate(cmd.spec)
        return CommandResult(
            command=verb, text=render_estimate_text(est), data=est.model_dump(mode="json")
        )
    if verb == "deploy":
        req = deck.request_deploy(cmd.spec, actor, cmd.reason)
        return _request_result(verb, req)
    if verb == "scale":
        return _request_result(verb, deck.request_scale(cmd.spec, actor, cmd.reason))
    if verb == "limits":
        return _request_result(verb, deck.request_limits(cmd.spec, actor, cmd.reason))
    if verb == "unpublish":
        if not getattr(cmd, "confirm", False):
            from modeldeck.errors import UserError

            dep = deck.get_deployment(cmd.deployment)
            raise UserError(
                f"Unpublishing {dep.deployed_model or dep.id} takes it offline at once and cannot "
                "be undone.",
                hint=f"Repeat with `confirm`: unpublish {dep.deployed_model or dep.id} confirm",
            )
        return _request_result(verb, deck.request_unpublish(cmd.deployment, actor, cmd.reason))
    if verb == "list":
        deps = deck.list_deployments(include_deleted=cmd.include_deleted)
        return CommandResult(
            command=verb,
            text=render.deployments_text(deps),
            data=[d.model_dump(mode="json") for d in deps],
        )
    if verb == "status":
        dep = deck.get_deployment(cmd.deployment)
        from modeldeck.costs import cost_report

        spent = cost_report(deck, dep.id, "all")
        data = dep.model_dump(mode="json")
        data["cost_so_far"] = {"total": spent.data["total"], "currency": spent.data["currency"]}
        so_far = format_amount(Decimal(spent.data["total"]), spent.data["currency"])
        text = (
            render.deployment_text(dep)
            + f"\n  cost so far: {so_far} (since creation, metered overflow included)"
        )
        return CommandResult(command=verb, text=text, data=data)
    if verb == "approvals":
        reqs = deck.list_requests(status="pending")
        return CommandResult(
            command=verb,
            text=render.requests_text(reqs),
            data=[r.model_dump(mode="json") for r in reqs],
        )
    if verb in ("approve", "reject"):
        outcome = (
            deck.approve(cmd.request_id, actor)
            if verb == "approve"
            else deck.reject(cmd.request_id, actor, cmd.reason)
        )
        return CommandResult(
            command=verb,
            ok=outcome.outcome not in ("failed",),
            text=outcome.message + "\n" + render.request_text(outcome.request),
            data=outcome.model_dump(mode="json"),
        )
    if verb == "cost":
        from modeldeck.costs import cost_report

        report = cost_report(deck, cmd.target, cmd.period)
        return CommandResult(command=verb, text=report.text, data=report.data)
    from modeldeck.errors import GrammarError

    raise GrammarError(f"The command {verb!r} is not available here.", hint="Try `help`.")


def _request_result(verb: str, req: Any) -> CommandResult:
    return CommandResult(
        command=verb,
        ok=req.status.value != "failed",
        text=render.request_text(req),
        data=req.model_dump(mode="json"),
    )
