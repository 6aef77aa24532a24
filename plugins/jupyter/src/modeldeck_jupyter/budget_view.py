"""A request's budgets in the notebook: each budget it falls under, its forecast now → with the
request, and the thresholds it would cross (the core's words; escaped, `$` kept from MathJax)."""

from __future__ import annotations

from modeldeck.budgets.effect_text import TITLE, effect_lines
from modeldeck.domain import RequestRecord
from modeldeck_jupyter.html import render_html
from modeldeck_jupyter.render import MUTED

TEMPLATE = (
    "<div class='modeldeck-budgets'><b>{{ title }}</b> <span style='{{ muted }}'>"
    "(forecast for the period: now → with this request)</span><ul style='margin:2px 0'>\n"
    "{% for line in lines %}<li class='modeldeck-budget'>{{ line }}</li>\n{% endfor %}</ul></div>"
)


def budget_effect_html(request: RequestRecord) -> str:
    """The request's budget lines as HTML, or "" when it falls under no budget."""
    lines = effect_lines(request)
    if not lines:
        return ""
    return render_html(TEMPLATE, title=TITLE, muted=MUTED, lines=lines)
