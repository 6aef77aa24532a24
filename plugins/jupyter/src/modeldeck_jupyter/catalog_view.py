"""The Catalog tab: every price the deck knows, with its source and date; a row fills the form.

`deck.models()` gives one row per model, mode, plan, billing method, price and tier, each with
the model's context and input limits. The tab shows the limits per model (what the catalog does
not know as "unknown"), every price (an unlisted one as "unknown", never $0) and a picker of
the deployable (model, plan, mode) choices; choosing one sets the Estimate & deploy form.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import ipywidgets as W

from modeldeck.money import format_amount
from modeldeck_jupyter.html import render_template


def catalog_rows(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The catalog rows with their amount as text (exact, from the Decimal string)."""
    rows = []
    for row in models:
        try:
            amount = Decimal(str(row.get("amount")))
        except InvalidOperation:  # not listed: say so, never $0
            amount = None
        known = row.get("listed", True) and amount is not None and amount.is_finite()
        text = (
            format_amount(amount, row.get("currency") or "USD", exact=True)
            if known and amount is not None
            else "unknown"
        )
        rows.append({**row, "amount_text": text})
    return rows


def _tokens(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "unknown"


def limit_rows(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model: max context (fixed or up to), max input, and their source and date."""
    seen: dict[str, dict[str, Any]] = {}
    for row in models:
        if row["model"] in seen:
            continue
        context = _tokens(row.get("max_context"))
        if row.get("context_fixed") and context != "unknown":
            context = f"fixed at {context}"
        seen[row["model"]] = {
            "model": row["model"],
            "context": context,
            "input": _tokens(row.get("max_input")),
            "source": row.get("limits_source") or "unknown",
            "as_of": row.get("limits_as_of") or "unknown",
        }
    return list(seen.values())


class CatalogView:
    """The Catalog tab's widgets."""

    def __init__(self, fill: Callable[[str, str, str], None]) -> None:
        self._fill = fill
        self.pick = W.Dropdown(description="Use", options=[], layout=W.Layout(width="100%"))
        self.pick.add_class("modeldeck-catalog-pick")
        self.use_button = W.Button(description="Fill the estimate form", icon="arrow-left")
        self.use_button.add_class("modeldeck-catalog-use")
        self.html = W.HTML()
        self.html.add_class("modeldeck-catalog")
        self.box = W.VBox(
            [
                W.HBox([self.pick, self.use_button], layout=W.Layout(flex_flow="row wrap")),
                self.html,
            ]
        )
        self.use_button.on_click(lambda _b: self.use())

    def load(self, models: list[dict[str, Any]]) -> None:
        rows = catalog_rows(models)
        choices = sorted(
            {(r["model"], r["plan"], r["mode"]) for r in rows if r.get("plan") in ("ptu", "mu")}
        )
        self.pick.options = [(f"{m} · {p} · {mode}", (m, p, mode)) for m, p, mode in choices]
        self.html.value = render_template("catalog.html.j2", rows=rows, limits=limit_rows(rows))

    def use(self) -> None:
        """Set the form to the chosen model, plan and mode."""
        if self.pick.value:
            model, plan, mode = self.pick.value
            self._fill(model, plan, mode)
