"""Long answers in pages, and the buttons that ride on answers ("More", "Share to channel").

An answer that would pass Slack's limits (50 blocks a message) is cut into pages: each page
shows what fits, says "N–M of T", and carries a More button whose value is the command and
where the next page starts; clicking it runs the same command again and replaces the
message with the next page. Estimates, comparisons, costs, forecasts, budgets and plans carry
Share to channel, whose value is the command: clicking it posts the same answer in the
channel, attributed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck_slack.blocks import Card, clip
from modeldeck_slack.limits import BUTTON_VALUE, MESSAGE_BLOCKS, SECTION_TEXT

MORE_ACTION = "modeldeck_more"
SHARE_ACTION = "modeldeck_share"
PAGER_BLOCK = "modeldeck_pager"
SHARE_BLOCK = "modeldeck_share"
SHARED_BLOCK = "modeldeck_shared_by"
PAGE_ITEMS = 15  # items a page shows at most, whatever room is left


@dataclass(frozen=True)
class More:
    """What a More button asks for: the same command, from item `start` on."""

    command: str
    start: int

    def dump(self) -> str:
        return json.dumps({"c": self.command, "s": self.start})

    @classmethod
    def load(cls, value: str) -> More:
        data = json.loads(value or "{}")
        return cls(command=str(data.get("c") or ""), start=max(0, int(data.get("s") or 0)))


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)], block_id=block_id)


def paged(
    text: str,
    head: Sequence[Block],
    items: Sequence[Sequence[Block]],
    *,
    command: str | None,
    start: int = 0,
    tail: Sequence[Block] = (),
    per_page: int = PAGE_ITEMS,
    noun: str = "items",
) -> Card:
    """`head`, as many `items` from `start` as fit (at most `per_page`), then `tail`.

    When items are left over, a context line says which are shown and a More button (when the
    command is known) asks for the rest."""
    start = min(max(0, start), max(0, len(items) - 1))
    room = MESSAGE_BLOCKS - len(head) - len(tail) - 2  # the "shown" line and the More button
    shown: list[Block] = []
    end = start
    while end < len(items) and end - start < per_page and len(shown) + len(items[end]) <= room:
        shown.extend(items[end])
        end += 1
    if end == start and start < len(items):  # one item larger than a page: cut it
        shown.extend(list(items[start])[:room])
        end = start + 1
    blocks: list[Block] = [*head, *shown]
    if start > 0 or end < len(items):
        blocks.append(context(f"Showing {start + 1}–{end} of {len(items)} {noun}.", PAGER_BLOCK))
        if end < len(items) and command:
            blocks.append(more_button(More(command, end)))
    blocks.extend(tail)
    return Card(text=clip(text, SECTION_TEXT), blocks=blocks)


def more_button(more: More) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"{PAGER_BLOCK}_more",
        elements=[
            ButtonElement(
                text=PlainTextObject(text="More"),
                action_id=MORE_ACTION,
                value=clip(more.dump(), BUTTON_VALUE),
            )
        ],
    )


def share_button(command: str | None) -> list[Block]:
    """The Share to channel button for an answer to `command` (none when it is unknown or too
    long to carry in a button)."""
    if not command or len(command) > BUTTON_VALUE:
        return []
    return [
        ActionsBlock(
            block_id=SHARE_BLOCK,
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Share to channel"),
                    action_id=SHARE_ACTION,
                    value=command,
                )
            ],
        )
    ]


def shared_by(card: Card, user: str) -> Card:
    """The answer as the channel sees it: without its Share button, attributed to `user`."""
    blocks = [b for b in card.blocks if b.block_id != SHARE_BLOCK][: MESSAGE_BLOCKS - 1]
    blocks.append(context(f"Shared by <@{user}>", SHARED_BLOCK))
    return Card(text=clip(f"{card.text} (shared by <@{user}>)", SECTION_TEXT), blocks=blocks)


def fit(card: Card) -> Card:
    """The safety net: a card over 50 blocks keeps 49 and says it was cut."""
    if len(card.blocks) <= MESSAGE_BLOCKS:
        return card
    cut = SectionBlock(text=mrkdwn("… cut: too long for one Slack message; ask for less."))
    return Card(text=card.text, blocks=[*card.blocks[: MESSAGE_BLOCKS - 1], cut])


def command_of(context_kw: dict[str, Any]) -> str | None:
    """The command text a renderer was given (`command=` in the render context)."""
    command = context_kw.get("command")
    return str(command) if command else None
