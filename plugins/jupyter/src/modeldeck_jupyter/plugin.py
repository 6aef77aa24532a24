"""The Jupyter plugin's hook implementations (entry point `modeldeck.jupyter`).

It registers the notebook's `html` renderers. Keeping this module free of ipywidgets, Jinja2 and
anything Slack (the renderers are imported when one is drawn) keeps every modeldeck process that
loads the entry point light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.hookspecs import hookimpl
from modeldeck_jupyter import hookspecs as _hookspecs

# Hooks this plugin declares for others (joined to the manager when it loads).
modeldeck_hookspecs = _hookspecs


@hookimpl
def register_renderers(register: Callable[..., None]) -> None:
    """HTML for `%deck` answers and the panel's tabs (templated, `$` kept from MathJax); other
    results have no HTML and show as their text."""
    from modeldeck import results as r

    def lazy(name: str) -> Callable[..., Any]:
        def draw(result: Any, **context: Any) -> Any:
            from modeldeck_jupyter import renderers

            return getattr(renderers, name)(result, **context)

        return draw

    for result_type, name in (
        (r.EstimateResult, "estimate"),
        (r.ComparisonResult, "comparison"),
        (r.CostResult, "cost"),
        (r.DecisionResult, "decision"),
        (r.RequestResult, "request"),
    ):
        register(result_type, "html", lazy(name))


@hookimpl
def track_event(event: Any, deck: Any) -> None:
    """Alerts raised in this process reach the open panels' Alerts tabs at once. Only a kernel
    that built a panel has imported the view; any other process skips this without importing."""
    import sys

    view = sys.modules.get("modeldeck_jupyter.alerts_view")
    if view is not None and getattr(event, "name", None) == "alert_raised":
        view.deliver(event)
