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
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from modeldeck.domain import DeploymentRecord, RequestRecord
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


def _text(
    block_id: str, label: str, hint: str, *, optional: bool = False, initial: str | None = None
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        hint=PlainTextObject(text=hint),
        element=PlainTextInputElement(
            action_id=block_id,
            max_length=500,
            initial_value=clip(initial, 500) if initial else None,
        ),
    )


def deploy_modal(
    models: list[str], origin_channel: str | None, estimate: str, reason: str | None = None
) -> View:
    """The deploy form: model, plan, mode, billing, capacity, duration, reason, and the
    estimate of what is chosen so far (re-priced as the selects change). `reason` prefills
    the reason (a message shortcut passes the message it was used on)."""
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
            _text(
                "reason",
                "Reason",
                "what it is for; approvers read it",
                optional=True,
                initial=reason,
            ),
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


# -- changes to a deployment: scale, renew, unpublish ------------------------------------------
#
# Entry points (buttons anywhere: App Home, `/deck list`, `/deck status`) carry the deployment's
# id as their value; the bot opens the modal with the click's trigger_id.

OPEN_DEPLOY_ACTION = "modeldeck_open_deploy"
OPEN_SCALE_ACTION = "modeldeck_open_scale"
OPEN_RENEW_ACTION = "modeldeck_open_renew"
OPEN_UNPUBLISH_ACTION = "modeldeck_open_unpublish"
DEPLOYMENT_MENU_ACTION = "modeldeck_deployment_menu"  # overflow: option value "<verb>:<id>"
DEPLOY_SHORTCUT = "modeldeck_deploy"  # global and message shortcut callback_id
SCALE_MODAL = "modeldeck_scale_modal"
RENEW_MODAL = "modeldeck_renew_modal"
UNPUBLISH_MODAL = "modeldeck_unpublish_modal"
CHANGE_FIELD_PREFIX = "modeldeck_change_"  # action ids of the inputs that re-price a modal
CHANGE_FIELDS = ("units", "in", "out", "thinking_out", "days", "auto_renew")
CONFIRM_BLOCK = "confirm"
MENU_VERBS = {
    "scale": OPEN_SCALE_ACTION,
    "renew": OPEN_RENEW_ACTION,
    "unpublish": OPEN_UNPUBLISH_ACTION,
}


@dataclass(frozen=True)
class DeploymentRef:
    """Which deployment a change modal acts on and where it was opened from."""

    deployment_id: str
    channel: str | None = None

    def dump(self) -> str:
        return json.dumps({"d": self.deployment_id, "c": self.channel})

    @classmethod
    def load(cls, text: str) -> DeploymentRef:
        data = json.loads(text or "{}")
        return cls(deployment_id=str(data.get("d") or ""), channel=data.get("c"))


def deployment_name(dep: DeploymentRecord) -> str:
    """The name people know a deployment by (and type to confirm an unpublish)."""
    return dep.deployed_model or dep.name or dep.id


def renewable(dep: DeploymentRecord) -> bool:
    """Only an upfront PTU order is renewed through Model Studio's API."""
    return dep.plan == "ptu" and dep.billing == "upfront"


def _change_input(
    field: str, label: str, hint: str, *, initial: str | None = None, optional: bool = False
) -> InputBlock:
    """A text input that re-prices the modal when Enter is pressed in it."""
    return InputBlock(
        block_id=field,
        label=PlainTextObject(text=label),
        optional=optional,
        hint=PlainTextObject(text=hint),
        dispatch_action=True,
        element=PlainTextInputElement(
            action_id=CHANGE_FIELD_PREFIX + field,
            max_length=40,
            initial_value=initial,
            dispatch_action_config=DispatchActionConfig(trigger_actions_on=["on_enter_pressed"]),
        ),
    )


def _reason_input() -> InputBlock:
    return _text("reason", "Reason", "what it is for; approvers read it", optional=True)


def _about(dep: DeploymentRecord) -> SectionBlock:
    text = (
        f"*{escape(deployment_name(dep))}* · {escape(dep.model)} ({escape(dep.mode)}) · "
        f"{dep.plan} billed {dep.billing}\nNow: {escape(dep.capacity)} · `{escape(dep.status)}`"
    )
    return SectionBlock(block_id="about", text=clip(text, 3000))


def thinks(dep: DeploymentRecord) -> bool:
    """A PTU deployment in thinking mode reserves thinking output TPM as well."""
    return dep.plan == "ptu" and dep.mode == "thinking"


def scale_modal(
    dep: DeploymentRecord, ref: DeploymentRef, estimate: str, *, thinking: bool = False
) -> View:
    """Scale: the capacity now, the new capacity (units for mu, TPM for ptu, and thinking
    output TPM when `thinking`), the cost change (re-priced when Enter is pressed in a
    capacity field), and a reason."""
    if dep.plan == "mu":
        fields = [
            _change_input(
                "units",
                "New units",
                f"now {dep.units or 0}; a whole number, 1 or more",
                initial=str(dep.units) if dep.units else None,
            )
        ]
    else:
        fields = [
            _change_input(
                "in",
                "New input TPM",
                f"now {dep.input_tpm or 0:,}; e.g. 40k",
                initial=str(dep.input_tpm) if dep.input_tpm else None,
            ),
            _change_input(
                "out",
                "New output TPM",
                f"now {dep.output_tpm or 0:,}; e.g. 4k",
                initial=str(dep.output_tpm) if dep.output_tpm else None,
            ),
        ]
        if thinking:
            fields.append(
                _change_input(
                    "thinking_out",
                    "New thinking output TPM",
                    f"now {dep.thinking_output_tpm or 0:,}; e.g. 8k (thinking mode)",
                    initial=str(dep.thinking_output_tpm) if dep.thinking_output_tpm else None,
                    optional=True,
                )
            )
    return View(
        type="modal",
        callback_id=SCALE_MODAL,
        title=PlainTextObject(text="Scale a deployment"),
        submit=PlainTextObject(text="Request"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.dump(),
        blocks=[
            _about(dep),
            *fields,
            _reason_input(),
            SectionBlock(block_id=ESTIMATE_BLOCK, text=clip(estimate, 3000)),
        ],
    )


def renew_modal(dep: DeploymentRecord, ref: DeploymentRef, estimate: str) -> View:
    """Renew an upfront PTU order: how many days, auto-renew on or off, what it costs."""
    return View(
        type="modal",
        callback_id=RENEW_MODAL,
        title=PlainTextObject(text="Renew an order"),
        submit=PlainTextObject(text="Request"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.dump(),
        blocks=[
            _about(dep),
            _change_input("days", "Days to add", "prepaid days, 1 or more; e.g. 30"),
            InputBlock(
                block_id="auto_renew",
                label=PlainTextObject(text="Auto-renew"),
                dispatch_action=True,
                element=StaticSelectElement(
                    action_id=CHANGE_FIELD_PREFIX + "auto_renew",
                    options=_options((("off", "off"), ("on", "on"))),
                    initial_option=Option(value="off", text="off"),
                ),
            ),
            _reason_input(),
            SectionBlock(block_id=ESTIMATE_BLOCK, text=clip(estimate, 3000)),
        ],
    )


def unpublish_modal(dep: DeploymentRecord, ref: DeploymentRef) -> View:
    """Unpublish, confirmed by typing the deployment's name (it goes offline at once)."""
    name = deployment_name(dep)
    warning = (
        f":warning: *Unpublishing `{escape(name)}` takes it offline at once and cannot be "
        "undone.* Requests using it will fail. It is asked for approval like any change."
    )
    return View(
        type="modal",
        callback_id=UNPUBLISH_MODAL,
        title=PlainTextObject(text="Unpublish"),
        submit=PlainTextObject(text="Request"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.dump(),
        blocks=[
            _about(dep),
            SectionBlock(block_id="warning", text=clip(warning, 3000)),
            _text(
                CONFIRM_BLOCK, "Type the deployment's name", f"type {clip(name, 120)} to confirm"
            ),
            _reason_input(),
        ],
    )


def _number(view: dict[str, Any], field: str) -> str:
    """A number as typed, without the spaces people put in (20 000): one grammar token."""
    raw = input_value(view, field, CHANGE_FIELD_PREFIX + field)
    return "".join(str(raw or "").split())


def _reason_part(view: dict[str, Any]) -> list[str]:
    reason = str(input_value(view, "reason", "reason") or "").strip()
    return ["reason=" + json.dumps(reason)] if reason else []


def scale_text(view: dict[str, Any], dep: DeploymentRecord) -> tuple[str | None, dict[str, str]]:
    """The `scale …` command the form says, or field errors for what is missing."""
    parts = ["scale", dep.id]
    if dep.plan == "mu":
        units = _number(view, "units")
        if not units:
            return None, {"units": "Say how many units: a whole number, 1 or more."}
        parts.append(f"units={units}")
    else:
        given = {f: _number(view, f) for f in ("in", "out", "thinking_out")}  # as the form has
        if not any(given.values()):
            return None, {"in": "Give the new input and/or output TPM, e.g. 40k."}
        parts += [f"{f}={v}" for f, v in given.items() if v]
    return " ".join(parts + _reason_part(view)), {}


def renew_text(view: dict[str, Any], dep: DeploymentRecord) -> tuple[str | None, dict[str, str]]:
    """The `renew …` command the form says, or field errors for what is missing."""
    days = _number(view, "days")
    if not days:
        return None, {"days": "Say how many prepaid days to add, 1 or more."}
    auto = input_value(view, "auto_renew", CHANGE_FIELD_PREFIX + "auto_renew") or "off"
    parts = ["renew", dep.id, f"days={days}", f"auto_renew={auto}"]
    return " ".join(parts + _reason_part(view)), {}


def unpublish_text(
    view: dict[str, Any], dep: DeploymentRecord
) -> tuple[str | None, dict[str, str]]:
    """The `unpublish … confirm` command, only when the name typed matches exactly."""
    name = deployment_name(dep)
    typed = str(input_value(view, CONFIRM_BLOCK, CONFIRM_BLOCK) or "").strip()
    if typed != name:
        said = f" (you typed `{clip(typed, 60)}`)" if typed else ""
        return None, {CONFIRM_BLOCK: clip(f"Type {name} exactly to confirm{said}.", 150)}
    return " ".join(["unpublish", dep.id, "confirm", *_reason_part(view)]), {}


def change_field_of_error(message: str, fields: tuple[str, ...]) -> str:
    """Which change-modal field a grammar error is about (`units=0 is too small` -> units)."""
    low = message.lower()
    for field in fields:
        if low.startswith(f"{field}=") or f" {field}=" in low:
            return field
    return fields[0]


def open_button(action_id: str, label: str, deployment_id: str, style: str | None = None) -> Any:
    """A button that opens one of the change modals for a deployment (App Home, answers)."""
    from slack_sdk.models.blocks import ButtonElement

    return ButtonElement(
        text=PlainTextObject(text=label), action_id=action_id, value=deployment_id, style=style
    )


def deployment_buttons(dep: DeploymentRecord) -> list[Any]:
    """Scale, Renew (upfront PTU only) and Unpublish buttons for a live deployment."""
    if dep.status in ("DELETED", "DELETING", "OFFLINING"):
        return []
    buttons = [open_button(OPEN_SCALE_ACTION, "Scale…", dep.id)]
    if renewable(dep):
        buttons.append(open_button(OPEN_RENEW_ACTION, "Renew…", dep.id))
    buttons.append(open_button(OPEN_UNPUBLISH_ACTION, "Unpublish…", dep.id, style="danger"))
    return buttons


def deploy_button() -> Any:
    """A button that opens the deploy modal."""
    return open_button(OPEN_DEPLOY_ACTION, "Deploy a model…", "deploy", style="primary")
