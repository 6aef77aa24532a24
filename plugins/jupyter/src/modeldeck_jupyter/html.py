"""The notebook's HTML, templated with Jinja2: autoescaped, and `$` never read as LaTeX.

Every value rendered into a template is HTML-escaped (autoescape) and each `$` in it becomes
`<span>$</span>`, which MathJax does not take as a math delimiter; the output is also wrapped
in a `tex2jax_ignore mathjax_ignore` element, so "$3.12 per hour · $74.88 per day" shows as money
in JupyterLab, Notebook 7 and Voila (issue 14's first finding).
"""

from __future__ import annotations

import html
import re
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

DOLLAR = Markup('<span class="modeldeck-dollar">$</span>')
NO_MATH = "modeldeck-html tex2jax_ignore mathjax_ignore"


def no_math(value: Any) -> Markup:
    """`value` escaped for HTML with every `$` wrapped so MathJax leaves it alone."""
    if isinstance(value, Markup):
        return value
    return Markup(str(escape("" if value is None else value)).replace("$", str(DOLLAR)))


_env = Environment(
    loader=PackageLoader("modeldeck_jupyter", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    finalize=no_math,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def render_template(name: str, **values: Any) -> str:
    """Render `templates/<name>` (wrapped so no math typesetting touches it)."""
    body = _env.get_template(name).render(**values)
    return f"<div class='{NO_MATH}'>{body}</div>"


_TAG = re.compile(r"<[^>]+>")


def visible_text(markup: str) -> str:
    """What a reader sees of `markup`: tags dropped, entities decoded (scripts and tests)."""
    return html.unescape(_TAG.sub("", markup))


def render_html(source: str, **values: Any) -> str:
    """Render a template given as text with the same environment (plugins' own renderers)."""
    body = _env.from_string(source).render(**values)
    return f"<div class='{NO_MATH}'>{body}</div>"
