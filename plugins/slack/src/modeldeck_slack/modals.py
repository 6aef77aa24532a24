"""Modals the bot opens (`views.open`) and reads back (`view_submission`).

Each modal carries what it acts on in `private_metadata` (JSON, at most 3,000 characters), so a
submission needs no server-side session. Bad fields are answered in the submission's ack as
`response_action: errors`, keyed by block id, so the person fixes them in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from modeldeck.domain import RequestRecord
from modeldeck_slack.blocks import clip, commitment, escape

REJECT_MODAL = "modeldeck_reject_modal"
REASON_BLOCK = "reason"
REASON_ACTION = "reason"
REASON_MAX = 500


@dataclass(frozen=True)
class CardRef:
    """Which request a modal acts on and where its card is (to refresh and answer there)."""

    request_id: str
    channel: str | None = None
    ts: str | None = None

    def dump(self) -> str:
        return json.dumps({"r": self.request_id, "c": self.channel, "t": self.ts})

    @classmethod
    def load(cls, text: str) -> CardRef:
        data = json.loads(text or "{}")
        return cls(request_id=str(data.get("r") or ""), channel=data.get("c"), ts=data.get("t"))


def reject_modal(request: RequestRecord, ref: CardRef) -> View:
    """Reject with a reason: what is rejected and what it would have cost; the reason is required
    and reaches the requester (their DM) and the card."""
    about = (
        f"*{escape(request.summary)}*\n`{escape(request.id)}` · {commitment(request)}\n"
        "The requester is told, with your reason."
    )
    return View(
        type="modal",
        callback_id=REJECT_MODAL,
        title=PlainTextObject(text="Reject request"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.dump(),
        blocks=[
            SectionBlock(text=clip(about, 3000)),
            InputBlock(
                block_id=REASON_BLOCK,
                label=PlainTextObject(text="Why?"),
                element=PlainTextInputElement(
                    action_id=REASON_ACTION,
                    multiline=True,
                    max_length=REASON_MAX,
                    placeholder=PlainTextObject(text="e.g. over this month's budget"),
                ),
            ),
        ],
    )


def input_value(view: dict[str, Any], block_id: str, action_id: str) -> Any:
    """The value a person left in one input of a submitted view (None when empty)."""
    state = ((view.get("state") or {}).get("values") or {}).get(block_id) or {}
    element = state.get(action_id) or {}
    if "selected_option" in element:
        option = element.get("selected_option") or {}
        return option.get("value")
    return element.get("value")


def reject_reason(view: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The reason typed, or the field errors to send back."""
    reason = str(input_value(view, REASON_BLOCK, REASON_ACTION) or "").strip()
    if not reason:
        return None, {REASON_BLOCK: "Say why, in a few words: the requester reads it."}
    if len(reason) > REASON_MAX:
        return None, {REASON_BLOCK: f"At most {REASON_MAX} characters."}
    return reason, {}
