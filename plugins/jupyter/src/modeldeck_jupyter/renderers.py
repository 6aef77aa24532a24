"""The notebook plugin's `html` renderers: each result type as HTML (Jinja2 templates).

Registered through `register_renderers` in `modeldeck_jupyter.plugin` (lazily, so processes that
never draw HTML do not import this). Context: `scope_label` names the deployment a cost report
is for (the Cost tab passes its picker's label).
"""

from __future__ import annotations

from typing import Any

from modeldeck import results as r
from modeldeck_jupyter.html import render_template
from modeldeck_jupyter.render import error_html, estimate_html, request_html
from modeldeck_jupyter.tables import comparison_html, cost_html, outcome_html


def text(result: r.Result, **_: Any) -> str:
    """Any result without HTML of its own: its text, preformatted."""
    if not result.ok:
        first = result.text.splitlines()[0] if result.text else "That did not work."
        return error_html(first, text=result.text)
    return render_template("text.html.j2", text=result.text)


def estimate(result: r.EstimateResult, **_: Any) -> str:
    return estimate_html(result.estimate)


def comparison(result: r.ComparisonResult, **_: Any) -> str:
    return estimate_html(result.estimate) + comparison_html(result.estimate)


def cost(result: r.CostResult, **context: Any) -> str:
    return cost_html(result.report, context.get("scope_label"))


def decision(result: r.DecisionResult, **_: Any) -> str:
    return outcome_html(result.outcome, text=result.text)


def request(result: r.RequestResult, **_: Any) -> str:
    if not result.ok:
        return text(result)
    return request_html(result.request)
