"""A request card's budget section: each budget the request falls under, its forecast now →
with the request, and the thresholds it would cross (the core's words, on every surface)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from modeldeck.budgets.effect_text import TITLE, effect_lines
from modeldeck.domain import RequestRecord
from modeldeck_slack.blocks import SECTION_LIMIT, clip, escape

BLOCK_ID = "modeldeck_budgets"
SHOWN = 8  # budgets listed on a card; more are summarised


def budget_blocks(request: RequestRecord) -> list[Block]:
    """The card's "Budgets" section, or nothing when the request falls under no budget."""
    lines = effect_lines(request)
    if not lines:
        return []
    shown = [f"• {escape(line)}" for line in lines[:SHOWN]]
    if len(lines) > SHOWN:
        shown.append(f"… and {len(lines) - SHOWN} more budget(s)")
    head = f"*{TITLE}* (forecast for the period: now → with this request)"
    text = clip("\n".join([head, *shown]), SECTION_LIMIT)
    return [SectionBlock(text=MarkdownTextObject(text=text), block_id=BLOCK_ID)]
