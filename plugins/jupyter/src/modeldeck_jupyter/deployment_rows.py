"""Row actions of the deployments table: scale, renew, limits and unpublish, each a request.

Every action goes through the deck's workflow (`request_scale`, `request_renew`,
`request_limits`, `request_unpublish`): roles, policy and approvals hold as on every surface.
Values are typed as text and read by the grammar (`scale <id> units=...`,
`renew <id> days=... auto_renew=on`), so the row accepts and refuses what `%deck` does. A scale
shows current → new capacity and the hourly cost difference before it is sent; Renew is offered
on upfront PTU rows only (the only orders Model Studio renews); an unpublish needs the
deployment's name typed. The requests and their statuses stay on the row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.domain import Actor, DeploymentRecord, DeploySpec, RequestRecord
from modeldeck.errors import UserError, ValidationFailed
from modeldeck.grammar import LimitsCommand, RenewCommand, ScaleCommand, parse
from modeldeck.grammar.tokens import join_argv
from modeldeck.money import format_amount
from modeldeck_jupyter.render import error_html, esc
from modeldeck_jupyter.submissions import SubmissionKeys

log = logging.getLogger(__name__)
GONE = {"DELETED", "DELETING", "unpublished"}
ACTIONS = ("scale", "renew", "limits", "unpublish")


def label(dep: DeploymentRecord) -> str:
    """The name a person types to confirm an unpublish: the model code, else the name or id."""
    return dep.deployed_model or dep.name or dep.id


def hourly_spec(dep: DeploymentRecord, **capacity: int | None) -> DeploySpec:
    """The deployment's capacity (or `capacity` instead) priced hourly for one hour."""
    fields = {
        "units": dep.units,
        "input_tpm": dep.input_tpm,
        "output_tpm": dep.output_tpm,
        "thinking_output_tpm": dep.thinking_output_tpm,
    }
    fields.update({k: v for k, v in capacity.items() if v is not None})
    if dep.plan == "mu":
        fields = {"units": fields["units"]}
    else:
        fields.pop("units")
    return DeploySpec(
        model=dep.model, plan=dep.plan, mode=dep.mode, billing="hourly", hours=Decimal(1), **fields
    )


# Statuses that end a request nobody decided: said in words (and why, for a stale one).
ENDED_LABELS = {
    "stale": "stale, no longer approvable",
    "withdrawn": "withdrawn by its requester",
}


def renewable(dep: DeploymentRecord) -> bool:
    """Only upfront (prepaid by the day) PTU orders are renewed."""
    return dep.plan == "ptu" and dep.billing == "upfront"


def request_line(req: RequestRecord) -> str:
    """One line about a request made from the row: id, kind and status."""
    status = str(req.status)
    if status in ENDED_LABELS:
        why = f" ({req.error})" if status == "stale" and req.error else ""
        return f"{req.kind} request {req.id}: {ENDED_LABELS[status]}{why}"
    return f"{req.kind} request {req.id}: {status}"


class DeploymentRow:
    """The action widgets of one deployment."""

    def __init__(
        self,
        dep: DeploymentRecord,
        deck: Callable[[], DeckAPI],
        actor: Callable[[], Actor],
        lock: threading.RLock,
        on_request: Callable[[RequestRecord], None],
    ) -> None:
        self.dep = dep
        self._deck, self._actor, self._lock, self._on_request = deck, actor, lock, on_request
        self.requests: list[RequestRecord] = []
        self._keys = SubmissionKeys()  # the same form sent twice (a double click): one request
        self.title = W.HTML(layout=W.Layout(flex="1 1 auto"))
        self.scale_button = W.Button(description="Scale", icon="arrows-v")
        self.renew_button = W.Button(description="Renew", icon="calendar-plus-o")
        self.limits_button = W.Button(description="Limits", icon="sliders")
        self.unpublish_button = W.Button(description="Unpublish", icon="trash")
        self.status_html = W.HTML()

        def text(description: str = "", placeholder: str = "") -> W.Text:
            return W.Text(
                description=description,
                placeholder=placeholder,
                continuous_update=True,
                layout=W.Layout(width="100%", max_width="240px"),  # one Layout per widget
            )

        self.scale_units = text("Units")
        self.scale_in = text("Input TPM")
        self.scale_out = text("Output TPM")
        self.scale_preview = W.HTML()
        self.scale_send = W.Button(description="Request scale", button_style="primary")
        self.renew_days = text("Days", "whole days, e.g. 30")
        self.renew_auto = W.Checkbox(description="Auto-renew", value=False, indent=False)
        self.renew_send = W.Button(description="Request renew", button_style="primary")
        self.rpm = text("RPM limit")
        self.tpm = text("TPM limit")
        self.limits_send = W.Button(description="Request limits", button_style="primary")
        self.confirm = text(placeholder=f"type {label(dep)} to confirm")
        self.unpublish_send = W.Button(
            description="Request unpublish", button_style="danger", disabled=True
        )
        capacity = [self.scale_units] if dep.plan == "mu" else [self.scale_in, self.scale_out]
        wrap = {"flex_flow": "row wrap"}
        self.scale_box = W.VBox(
            [W.HBox(capacity, layout=W.Layout(**wrap)), self.scale_preview, self.scale_send]
        )
        self.renew_box = W.VBox(
            [W.HBox([self.renew_days, self.renew_auto], layout=W.Layout(**wrap)), self.renew_send]
        )
        self.limits_box = W.VBox(
            [W.HBox([self.rpm, self.tpm], layout=W.Layout(**wrap)), self.limits_send]
        )
        self.unpublish_box = W.VBox(
            [W.HBox([self.confirm, self.unpublish_send], layout=W.Layout(**wrap))]
        )
        for box in self._boxes():
            box.layout.display = "none"
        self.box = W.VBox(
            [
                W.HBox(
                    [
                        self.title,
                        self.scale_button,
                        self.renew_button,
                        self.limits_button,
                        self.unpublish_button,
                    ],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.scale_box,
                self.renew_box,
                self.limits_box,
                self.unpublish_box,
                self.status_html,
            ],
            layout=W.Layout(padding="2px 4px", margin="0 0 4px 0"),
        )
        self.box.add_class("modeldeck-deployment-row")
        for widget, css in (
            (self.scale_button, "modeldeck-row-scale"),
            (self.renew_button, "modeldeck-row-renew"),
            (self.limits_button, "modeldeck-row-limits"),
            (self.unpublish_button, "modeldeck-row-unpublish"),
            (self.scale_units, "modeldeck-scale-units"),
            (self.scale_in, "modeldeck-scale-in"),
            (self.scale_out, "modeldeck-scale-out"),
            (self.scale_send, "modeldeck-scale-send"),
            (self.renew_days, "modeldeck-renew-days"),
            (self.renew_send, "modeldeck-renew-send"),
            (self.status_html, "modeldeck-row-status"),
        ):
            widget.add_class(css)
        self.scale_button.on_click(lambda _b: self.open("scale"))
        self.renew_button.on_click(lambda _b: self.open("renew"))
        self.limits_button.on_click(lambda _b: self.open("limits"))
        self.unpublish_button.on_click(lambda _b: self.open("unpublish"))
        for field in (self.scale_units, self.scale_in, self.scale_out):
            field.observe(lambda _c: self.preview_scale(), names="value")
        self.confirm.observe(self._on_confirm, names="value")
        self.scale_send.on_click(lambda _b: self.request_scale())
        self.renew_send.on_click(lambda _b: self.request_renew())
        self.limits_send.on_click(lambda _b: self.request_limits())
        self.unpublish_send.on_click(lambda _b: self.request_unpublish())
        self.update(dep)

    def update(self, dep: DeploymentRecord) -> None:
        """Show the deployment's current state; a gone one offers no actions."""
        self.dep = dep
        gone = str(dep.status) in GONE
        html = (
            f"<b>{esc(label(dep))}</b> · {esc(dep.capacity)} · "
            f"<span class='modeldeck-status'>{esc(dep.status)}</span>"
        )
        if self.title.value != html:
            self.title.value = html
        for button in (self.scale_button, self.limits_button, self.unpublish_button):
            button.disabled = gone
        self.renew_button.disabled = gone
        self.renew_button.layout.display = None if renewable(dep) else "none"
        if gone:
            for box in self._boxes():
                box.layout.display = "none"
        self.refresh_requests()

    def open(self, action: str) -> None:
        """Show one action's small form (and hide the others)."""
        for name, box in zip(ACTIONS, self._boxes(), strict=True):
            box.layout.display = None if name == action else "none"
        if action == "scale":
            self.preview_scale()

    def _boxes(self) -> tuple[W.VBox, ...]:
        return (self.scale_box, self.renew_box, self.limits_box, self.unpublish_box)

    def _scale_line(self) -> str:
        words = ["scale", self.dep.id]
        pairs = (
            [("units", self.scale_units)]
            if self.dep.plan == "mu"
            else [("in", self.scale_in), ("out", self.scale_out)]
        )
        words += [f"{key}={w.value.strip()}" for key, w in pairs if w.value.strip()]
        return join_argv(words)

    def preview_scale(self) -> Decimal | None:
        """Current → new capacity and the hourly cost difference, or the grammar's error."""
        try:
            command = parse(self._scale_line())
            assert isinstance(command, ScaleCommand)
            new = command.spec
            if new.units is None and new.input_tpm is None and new.output_tpm is None:
                raise ValidationFailed("Type the new capacity.")
            deck = self._deck()
            with self._lock:
                before = deck.estimate(hourly_spec(self.dep))
                after = deck.estimate(
                    hourly_spec(
                        self.dep,
                        units=new.units,
                        input_tpm=new.input_tpm,
                        output_tpm=new.output_tpm,
                    )
                )
        except Exception as exc:
            log.debug("scale preview failed", exc_info=not isinstance(exc, UserError))
            self.scale_preview.value = error_html(exc)
            return None
        diff = after.total - before.total
        sign = "+" if diff >= 0 else "−"
        target = hourly_spec(
            self.dep, units=new.units, input_tpm=new.input_tpm, output_tpm=new.output_tpm
        ).capacity
        self.scale_preview.value = (
            f"<span class='modeldeck-scale-preview'>{esc(self.dep.capacity)} → {esc(target)}: "
            f"{esc(format_amount(before.total, before.currency))} → "
            f"{esc(format_amount(after.total, after.currency))} per hour at hourly rates "
            f"({sign}{esc(format_amount(abs(diff), after.currency))})</span>"
        )
        return diff

    def _send(self, make: Callable[[DeckAPI, Actor], RequestRecord]) -> RequestRecord | None:
        try:
            deck = self._deck()
            with self._lock:
                record = make(deck, self._actor())
        except Exception as exc:
            log.debug("row action failed", exc_info=not isinstance(exc, UserError))
            self.status_html.value = error_html(exc)
            return None
        if all(r.id != record.id for r in self.requests):  # a replay answers with the first
            self.requests.append(record)
        self.refresh_requests()
        self._on_request(record)
        return record

    def request_scale(self) -> RequestRecord | None:
        if self.preview_scale() is None:
            self.status_html.value = self.scale_preview.value
            return None
        command = parse(self._scale_line())
        assert isinstance(command, ScaleCommand)
        key = self._keys.key_for(command.spec.model_dump_json())
        return self._send(
            lambda deck, actor: deck.request_scale(command.spec, actor, idempotency_key=key)
        )

    def request_renew(self) -> RequestRecord | None:
        """`renew <id> days=<n> auto_renew=on|off` through the workflow (upfront PTU only)."""
        words = ["renew", self.dep.id, f"days={self.renew_days.value.strip()}"]
        words.append(f"auto_renew={'on' if self.renew_auto.value else 'off'}")
        try:
            if not self.renew_days.value.strip():
                raise ValidationFailed(
                    "Type how many days to renew for.", hint="Whole days, e.g. 30."
                )
            command = parse(join_argv(words))
            assert isinstance(command, RenewCommand)
        except UserError as exc:
            self.status_html.value = error_html(exc)
            return None
        key = self._keys.key_for(command.spec.model_dump_json())
        return self._send(
            lambda deck, actor: deck.request_renew(command.spec, actor, idempotency_key=key)
        )

    def request_limits(self) -> RequestRecord | None:
        words = ["limits", self.dep.id]
        words += [f"{k}={w.value.strip()}" for k, w in (("rpm", self.rpm), ("tpm", self.tpm))]
        try:
            command = parse(join_argv([w for w in words if not w.endswith("=")]))
            assert isinstance(command, LimitsCommand)
        except UserError as exc:
            self.status_html.value = error_html(exc)
            return None
        key = self._keys.key_for(command.spec.model_dump_json())
        return self._send(
            lambda deck, actor: deck.request_limits(command.spec, actor, idempotency_key=key)
        )

    def _on_confirm(self, _change: object) -> None:
        self.unpublish_send.disabled = self.confirm.value.strip() != label(self.dep)

    def request_unpublish(self) -> RequestRecord | None:
        if self.confirm.value.strip() != label(self.dep):
            self.status_html.value = error_html(
                ValidationFailed(
                    f"Type {label(self.dep)} exactly to confirm the unpublish.",
                    hint="This stops the deployment; its billing stops when it is deleted.",
                )
            )
            return None
        key = self._keys.key_for(f"unpublish {self.dep.id}")
        return self._send(
            lambda deck, actor: deck.request_unpublish(self.dep.id, actor, idempotency_key=key)
        )

    def refresh_requests(self) -> None:
        """Re-read the status of each request made from this row (cheap: one get each)."""
        if not self.requests:
            return
        try:
            deck = self._deck()
            with self._lock:
                self.requests = [deck.get_request(r.id) for r in self.requests]
        except Exception:
            log.debug("request status refresh failed", exc_info=True)
        html = "<br>".join(esc(request_line(r)) for r in self.requests[-3:])
        html = f"<span class='modeldeck-row-requests'>{html}</span>"
        if self.status_html.value != html:
            self.status_html.value = html

    def close(self) -> None:
        for widget in self.box.children:
            widget.close()
        self.box.close()
