"""The Approvals tab: pending requests with Approve / Reject, decided as the notebook user.

Each pending request (`deck.list_requests("pending")`) gets a row: what it is, who asked and
why, the estimate, the policy rule and how many approvals it still needs, and the buttons. A
decision goes through `deck.approve` / `deck.reject`, so the deck's rules hold here as everywhere
(the requester never approves their own; compare-and-set makes a double click harmless), and the
panel shows the deck's own truthful answer. Rows are kept across refreshes, so a reason being
typed survives the poller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.domain import Actor, DecisionOutcome, RequestRecord
from modeldeck.errors import UserError
from modeldeck.timeutil import to_beijing, utcnow
from modeldeck_jupyter.render import MUTED, error_html, error_text

log = logging.getLogger(__name__)


class ApprovalRow:
    """The widgets of one pending request."""

    def __init__(self, request: RequestRecord) -> None:
        self.request_id = request.id
        from modeldeck_jupyter.tables import approval_html  # the result types: after paint

        self.info = W.HTML(approval_html(request), layout=W.Layout(flex="1 1 auto"))
        self.approve_button = W.Button(
            description="Approve", button_style="success", icon="check", tooltip=request.id
        )
        self.reject_button = W.Button(
            description="Reject", button_style="danger", icon="times", tooltip=request.id
        )
        self.reason = W.Text(
            placeholder="reason for rejecting (the requester sees it)",
            layout=W.Layout(width="320px"),
        )
        for widget, css in (
            (self.approve_button, "modeldeck-approve"),
            (self.reject_button, "modeldeck-reject"),
            (self.reason, "modeldeck-reject-reason"),
        ):
            widget.add_class(css)
        self.box = W.VBox(
            [
                self.info,
                W.HBox([self.approve_button, self.reject_button, self.reason]),
            ],
            layout=W.Layout(
                border="1px solid var(--jp-border-color2,#ddd)",
                padding="4px 8px",
                margin="0 0 6px 0",
            ),
        )
        self.box.add_class("modeldeck-approval")

    def update(self, request: RequestRecord) -> None:
        from modeldeck_jupyter.tables import approval_html

        html = approval_html(request)
        if self.info.value != html:
            self.info.value = html

    def busy(self, busy: bool) -> None:
        self.approve_button.disabled = busy
        self.reject_button.disabled = busy

    def close(self) -> None:
        for widget in (self.info, self.approve_button, self.reject_button, self.reason, self.box):
            widget.close()


class ApprovalQueue:
    """The pending requests and the notebook user's decisions on them."""

    def __init__(
        self,
        deck: Callable[[], DeckAPI],
        actor: Callable[[], Actor],
        lock: threading.RLock,
        on_decided: Callable[[DecisionOutcome], object] | None = None,
    ) -> None:
        self._deck = deck
        self._actor = actor
        self._lock = lock
        self._rows_lock = threading.RLock()
        self._on_decided = on_decided
        self.rows: dict[str, ApprovalRow] = {}
        self.pending: list[RequestRecord] = []
        self.last_outcome: DecisionOutcome | None = None
        self.last_error: str | None = None
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.status_html = W.HTML()
        self.result_html = W.HTML()
        self.rows_box = W.VBox()
        for widget, css in (
            (self.refresh_button, "modeldeck-approvals-refresh"),
            (self.status_html, "modeldeck-approvals-status"),
            (self.result_html, "modeldeck-approvals-result"),
            (self.rows_box, "modeldeck-approvals"),
        ):
            widget.add_class(css)
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.box = W.VBox(
            [W.HBox([self.refresh_button, self.status_html]), self.result_html, self.rows_box]
        )

    def refresh(self) -> list[RequestRecord] | None:
        """Reload the pending requests; rows of requests still pending are kept, not rebuilt."""
        try:
            deck = self._deck()
            with self._lock:
                pending = deck.list_requests("pending")
        except Exception as exc:
            log.debug("listing pending requests failed", exc_info=not isinstance(exc, UserError))
            self.status_html.value = error_html(exc)
            return None
        with self._rows_lock:
            for request in pending:
                row = self.rows.get(request.id)
                if row is None:
                    row = self.rows[request.id] = self._new_row(request)
                else:
                    row.update(request)
            keep = {r.id for r in pending}
            for gone in [rid for rid in self.rows if rid not in keep]:
                self.rows.pop(gone).close()
            children = tuple(self.rows[r.id].box for r in pending)
            if tuple(self.rows_box.children) != children:
                self.rows_box.children = children
            self.pending = pending
        stamp = to_beijing(utcnow()).strftime("%H:%M:%S")
        count = (
            f"{len(pending)} request(s) waiting for a decision"
            if pending
            else "No requests are waiting for a decision"
        )
        self.status_html.value = f"<span style='{MUTED}'>{count}, updated {stamp} (UTC+8)</span>"
        return pending

    def _new_row(self, request: RequestRecord) -> ApprovalRow:
        row = ApprovalRow(request)
        rid = request.id
        row.approve_button.on_click(lambda _button: self.approve(rid))
        row.reject_button.on_click(lambda _button: self.reject(rid))
        return row

    def approve(self, request_id: str) -> DecisionOutcome | None:
        """Approve as the notebook user; the outcome (or the refusal) is shown above the queue."""
        return self._decide(request_id, "approve", None)

    def reject(self, request_id: str, reason: str | None = None) -> DecisionOutcome | None:
        """Reject as the notebook user, with `reason` or the row's reason text."""
        if reason is None:
            row = self.rows.get(request_id)
            reason = row.reason.value if row is not None else None
        return self._decide(request_id, "reject", (reason or "").strip() or None)

    def _decide(self, request_id: str, verdict: str, reason: str | None) -> DecisionOutcome | None:
        row = self.rows.get(request_id)
        if row is not None:
            row.busy(True)
        try:
            deck = self._deck()
            with self._lock:
                actor = self._actor()
                if verdict == "approve":
                    outcome = deck.approve(request_id, actor)
                else:
                    outcome = deck.reject(request_id, actor, reason)
        except Exception as exc:
            log.debug("decision on %s failed", request_id, exc_info=not isinstance(exc, UserError))
            self.last_outcome = None
            self.last_error = error_text(exc)
            self.result_html.value = error_html(exc)
            return None
        finally:
            if row is not None:
                row.busy(False)
        self.last_outcome = outcome
        self.last_error = None
        from modeldeck_jupyter.tables import outcome_html

        self.result_html.value = outcome_html(outcome)
        self.refresh()
        if self._on_decided is not None:
            self._on_decided(outcome)
        return outcome

    def close(self) -> None:
        with self._rows_lock:
            for row in self.rows.values():
                row.close()
            self.rows.clear()
