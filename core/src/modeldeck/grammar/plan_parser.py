"""Parsing the `plan` verb: `plan <model> [trace=<file>|deployment=<ref>|prometheus] … [apply]`.

The plain words after the model are `prometheus` (read the trace from Model Studio's monitoring)
and `apply` (turn the chosen option into a request); everything else is key=value, checked
against `PlanCommand.keys`.
"""

from __future__ import annotations

from typing import Any

from modeldeck.errors import GrammarError
from modeldeck.grammar.commands import PlanCommand
from modeldeck.grammar.messages import did_you_mean, shown
from modeldeck.planner.spec import PlanSpec

__all__ = ["parse_plan"]

_WORDS = ("prometheus", "apply")


def parse_plan(raw: str, words: list[str], values: dict[str, Any], usage: str) -> PlanCommand:
    """The `PlanCommand` of a plan's plain words and (already parsed) key=value options."""
    if not words:
        raise GrammarError(f"Expected a model after 'plan'. {usage}.")
    model = words[0].strip().lower()
    if not model or model in _WORDS:
        raise GrammarError(f"Expected a model after 'plan', before '{shown(words[0])}'. {usage}.")
    flags: set[str] = set()
    for word in words[1:]:
        flag = word.strip().lower()
        if flag not in _WORDS:
            raise GrammarError(
                f"Unexpected '{shown(word)}' after the model: 'plan' takes the words "
                f"'prometheus' and 'apply', the rest is key=value." + did_you_mean(flag, _WORDS),
                hint=usage + ".",
            )
        if flag in flags:
            raise GrammarError(f"'{flag}' is given twice: say it once.")
        flags.add(flag)
    prometheus = "prometheus" in flags
    if prometheus and "trace" in values:
        raise GrammarError(
            "Plan from one trace: trace=<file> or prometheus, not both.", hint=usage + "."
        )
    if "trace" in values and "deployment" in values:
        raise GrammarError(
            "Plan from one trace: trace=<file> or deployment=<ref> (its metered usage), not both.",
            hint="To plan a file and scale a deployment with the answer, plan the deployment's "
            "own usage: plan <model> deployment=<ref> apply.",
        )
    if "trace" not in values and "deployment" not in values and not prometheus:
        raise GrammarError(
            "'plan' needs a trace: trace=<file.csv>, deployment=<ref> (its metered usage) or "
            "prometheus (Model Studio's monitoring).",
            hint=usage + ".",
        )
    if "period" in values and "trace" in values:
        raise GrammarError(
            "period= applies to deployment= and prometheus: a trace file is planned whole.",
            hint="Cut the file to the minutes you want, or leave period= out.",
        )
    apply = "apply" in flags
    if not apply and ("option" in values or "reason" in values):
        given = "option=" if "option" in values else "reason="
        raise GrammarError(
            f"{given} belongs to 'plan … apply': add the word apply to request the option.",
            hint=usage + ".",
        )
    spec = PlanSpec(
        model=model,
        trace=values.get("trace"),
        deployment=values.get("deployment"),
        prometheus=prometheus,
        period=values.get("period"),
        mode=values.get("mode"),
        coverage=values.get("coverage"),
        options=values.get("options"),
    )
    return PlanCommand(
        raw=raw, spec=spec, apply=apply, option=values.get("option"), reason=values.get("reason")
    )
