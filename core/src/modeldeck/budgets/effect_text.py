"""A request's effect on the budgets in words, the same on every surface (text, Slack, notebook).

One line per budget: `llm-team (soft, workspace): forecast $3,500.00 (70%) → $4,100.00 (82%),
+$600.00; crosses 80%`. Percentages are cut (never rounded up), so 79.96% never reads as 80%.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from modeldeck.domain import BudgetEffect, RequestRecord
from modeldeck.money import format_amount

TITLE = "Budgets"


def percent(value: Decimal) -> str:
    """`70%`, `82.4%`: one decimal at most, cut toward zero (after dropping the noise of a
    division below 0.001%, so 69.99999…% reads 70%)."""
    clean = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    text = f"{clean.quantize(Decimal('0.1'), rounding=ROUND_DOWN):f}"
    return f"{text.removesuffix('.0')}%"


def change_text(amount: Decimal) -> str:
    """`+$600.00`, `-$40.00`, `±$0.00`."""
    if amount > 0:
        return "+" + format_amount(amount)
    if amount < 0:
        return format_amount(amount)
    return "±" + format_amount(amount)


def verdict(effect: BudgetEffect) -> str:
    """What the change means for the budget: thresholds it would reach, over, admin needed."""
    notes = []
    if effect.crosses:
        notes.append("crosses " + ", ".join(f"{t}%" for t in effect.crosses))
    if effect.needs_admin:
        notes.append("over the hard budget: needs an admin's approval")
    elif effect.after > effect.amount and effect.change > 0:
        notes.append(f"forecast over the budget's {format_amount(effect.amount)}")
    return "; ".join(notes)


def effect_line(effect: BudgetEffect) -> str:
    """One budget's forecast now → with the request, and what that crosses."""
    kind = "hard" if effect.hard else "soft"
    text = (
        f"{effect.budget} ({kind}, {effect.scope}): forecast {format_amount(effect.before)} "
        f"({percent(effect.before_percent)}) → {format_amount(effect.after)} "
        f"({percent(effect.after_percent)}), {change_text(effect.change)}"
    )
    note = verdict(effect)
    return f"{text}; {note}" if note else text


def effect_lines(request: RequestRecord) -> list[str]:
    """Every budget line of the request's card; an unknown effect says so."""
    lines = [effect_line(e) for e in request.budget_effect]
    if request.budget_effect_unknown:
        lines.append(f"unknown: {request.budget_effect_unknown}")
    return lines
