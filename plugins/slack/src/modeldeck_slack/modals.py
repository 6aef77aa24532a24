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
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
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


DEPLOY_MODAL = "modeldeck_deploy_modal"
ESTIMATE_BLOCK = "estimate"
DEPLOY_SELECTS = ("model", "plan", "mode", "billing")
DEPLOY_TEXTS = ("capacity", "duration", "reason")
PLANS = (("mu", "Model Units (mu)"), ("ptu", "Provisioned Throughput (ptu)"))
MODES = (("instruct", "instruct"), ("thinking", "thinking"))
BILLINGS = (("hourly", "hourly"), ("upfront", "upfront"), ("monthly", "monthly"))


def _options(pairs: Any) -> list[Option]:
    return [Option(value=value, text=clip(label, 75)) for value, label in pairs][:100]


def _select(
    block_id: str, label: str, pairs: Any, *, optional: bool = False, initial: str | None = None
) -> InputBlock:
    options = _options(pairs)
    chosen = next((o for o in options if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        dispatch_action=True,  # a change re-prices the estimate (block_actions + views.update)
        element=StaticSelectElement(
            action_id=block_id,
            placeholder=PlainTextObject(text=f"Choose {label.lower()}"),
            options=options,
            initial_option=chosen,
        ),
    )


def _text(block_id: str, label: str, hint: str, *, optional: bool = False) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        hint=PlainTextObject(text=hint),
        element=PlainTextInputElement(action_id=block_id, max_length=500),
    )


def deploy_modal(models: list[str], origin_channel: str | None, estimate: str) -> View:
    """The deploy form: model, plan, mode, billing, capacity, duration, reason, and the
    estimate of what is chosen so far (re-priced as the selects change)."""
    return View(
        type="modal",
        callback_id=DEPLOY_MODAL,
        title=PlainTextObject(text="Deploy a model"),
        submit=PlainTextObject(text="Request"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"c": origin_channel}),
        blocks=[
            _select("model", "Model", [(m, m) for m in models]),
            _select("plan", "Plan", PLANS),
            _select("mode", "Mode (ptu)", MODES, optional=True),
            _select("billing", "Billing", BILLINGS, initial="hourly"),
            _text("capacity", "Capacity", "mu: a number of units (2); ptu: in=20000 out=2000"),
            _text(
                "duration",
                "Duration",
                "e.g. 10h or 3d for hourly, 1mo for upfront; empty = until unpublished",
                optional=True,
            ),
            _text("reason", "Reason", "what it is for; approvers read it", optional=True),
            SectionBlock(block_id=ESTIMATE_BLOCK, text=clip(estimate, 3000)),
        ],
    )


def deploy_text(view: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The `deploy …` command the form says, or field errors for what is missing."""
    values = {b: input_value(view, b, b) for b in (*DEPLOY_SELECTS, *DEPLOY_TEXTS)}
    errors: dict[str, str] = {}
    if not values["model"]:
        errors["model"] = "Choose a model."
    if not values["plan"]:
        errors["plan"] = "Choose a plan: mu or ptu."
    capacity = str(values["capacity"] or "").strip()
    if not capacity:
        errors["capacity"] = "Say how much: a number of units (mu) or in=… out=… (ptu)."
    if errors:
        return None, errors
    if capacity.isdigit():
        capacity = f"units={capacity}" if values["plan"] == "mu" else capacity
    elif values["plan"] == "mu" and "=" not in capacity:
        return None, {"capacity": f"'{capacity}' is not a number of units: type e.g. 2."}
    parts = ["deploy", str(values["model"]), str(values["plan"]), capacity]
    if values["mode"] and values["plan"] == "ptu":
        parts.append(f"mode={values['mode']}")
    if values["billing"]:
        parts.append(f"billing={values['billing']}")
    duration = str(values["duration"] or "").strip()
    if duration:
        parts.append(f"duration={duration.replace(' ', '')}")
    reason = str(values["reason"] or "").strip()
    if reason:
        parts.append("reason=" + json.dumps(reason))
    return " ".join(parts), {}


def field_of_error(message: str) -> str:
    """Which form field a grammar or validation error is about (the capacity when unsure)."""
    low = message.lower()
    for field, words in (
        ("duration", ("duration", "hours", "days", "months")),
        ("billing", ("billing", "upfront", "monthly")),
        ("mode", ("mode", "thinking")),
        ("model", ("model",)),
        ("reason", ("reason",)),
    ):
        if any(w in low for w in words):
            return field
    return "capacity"
