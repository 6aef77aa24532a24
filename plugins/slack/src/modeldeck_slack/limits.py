"""Slack's Block Kit limits, checked in one place for everything the bot sends.

slack_sdk validates some lengths when a block is serialised and none of the per-message counts
(50 blocks in a message, 100 in a view), and Slack refuses a whole message for one breach. The
answers paginate or summarise to stay inside these; the tests run every message the bot sends
through `message_problems` / `view_problems`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
BLOCK_ID = 255
MESSAGE_TEXT = 40000
OVERFLOW_OPTIONS = 5
VIEW_TITLE = 24
PRIVATE_METADATA = 3000


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, Mapping) else ""


def _element_problems(where: str, el: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    kind = el.get("type")
    if kind == "button":
        if not 0 < len(_text(el.get("text"))) <= BUTTON_TEXT:
            out.append(f"{where}: button text must be 1-{BUTTON_TEXT} characters")
        if len(str(el.get("value", ""))) > BUTTON_VALUE:
            out.append(f"{where}: button value over {BUTTON_VALUE} characters")
    elif kind == "overflow":
        options = el.get("options") or []
        if not 2 <= len(options) <= OVERFLOW_OPTIONS:
            out.append(f"{where}: an overflow menu takes 2-{OVERFLOW_OPTIONS} options")
    action_id = el.get("action_id")
    if action_id is not None and len(str(action_id)) > BLOCK_ID:
        out.append(f"{where}: action_id over {BLOCK_ID} characters")
    return out


def block_problems(blocks: Sequence[Mapping[str, Any]], max_blocks: int) -> list[str]:
    """Every way these blocks break Slack's limits (empty when Slack would take them)."""
    out: list[str] = []
    if len(blocks) > max_blocks:
        out.append(f"{len(blocks)} blocks (at most {max_blocks})")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if str(block_id) in seen:
                out.append(f"{where}: block_id {block_id!r} used twice")
            if len(str(block_id)) > BLOCK_ID:
                out.append(f"{where}: block_id over {BLOCK_ID} characters")
            seen.add(str(block_id))
        kind = block.get("type")
        if kind == "section":
            text, fields = block.get("text"), block.get("fields") or []
            if text is None and not fields:
                out.append(f"{where}: a section needs text or fields")
            if len(_text(text)) > SECTION_TEXT:
                out.append(f"{where}: text of {len(_text(text))} characters (max {SECTION_TEXT})")
            if len(fields) > SECTION_FIELDS:
                out.append(f"{where}: {len(fields)} fields (at most {SECTION_FIELDS})")
            out += [
                f"{where}: field {j} of {len(_text(f))} characters (max {FIELD_TEXT})"
                for j, f in enumerate(fields)
                if len(_text(f)) > FIELD_TEXT
            ]
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping):
                out += _element_problems(f"{where} accessory", accessory)
        elif kind == "header":
            if not 0 < len(_text(block.get("text"))) <= HEADER_TEXT:
                out.append(f"{where}: header text must be 1-{HEADER_TEXT} characters")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= ACTION_ELEMENTS:
                out.append(f"{where}: 1-{ACTION_ELEMENTS} elements")
            for j, el in enumerate(elements):
                out += _element_problems(f"{where} element {j}", el)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= CONTEXT_ELEMENTS:
                out.append(f"{where}: 1-{CONTEXT_ELEMENTS} elements")
    return out


def message_problems(message: Mapping[str, Any]) -> list[str]:
    """What Slack would refuse in a message (`text` + `blocks`), as readable lines."""
    out: list[str] = []
    text = message.get("text")
    blocks = message.get("blocks")
    if not text and not blocks:
        out.append("a message needs text or blocks")
    if text is not None and len(str(text)) > MESSAGE_TEXT:
        out.append(f"text over {MESSAGE_TEXT} characters")
    if blocks is not None:
        out += block_problems(list(blocks), MESSAGE_BLOCKS)
    return out


def view_problems(view: Mapping[str, Any]) -> list[str]:
    """What Slack would refuse in a modal or App Home view."""
    out: list[str] = []
    if view.get("type") == "modal":
        if not 0 < len(_text(view.get("title"))) <= VIEW_TITLE:
            out.append(f"a modal title must be 1-{VIEW_TITLE} characters")
        for key in ("submit", "close"):
            if key in view and not 0 < len(_text(view[key])) <= VIEW_TITLE:
                out.append(f"the {key} label must be 1-{VIEW_TITLE} characters")
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA:
        out.append(f"private_metadata over {PRIVATE_METADATA} characters")
    return out + block_problems(list(view.get("blocks") or []), VIEW_BLOCKS)
