"""The Playground tab: send a prompt to a RUNNING deployment and see what the call cost.

The call goes through modeldeck's metering client (`deck.playground`: in-process the deck's own
`MeteredClient`, in team mode the server's, streamed back as NDJSON), streamed from the model
(SSE, the compatible mode), so it is recorded and priced like any metered call and shows in
`cost`. The answer appears as it streams; then the tokens, latency, whether it overflowed the
purchased TPM and its cost (pay-as-you-go for overflow, nothing extra within the reservation,
"unknown" when the price is not listed — never $0).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.domain import DeploymentRecord
from modeldeck.errors import UserError, ValidationFailed
from modeldeck.grammar import parse_value
from modeldeck.money import format_amount
from modeldeck_jupyter.render import MUTED, error_html, esc

if TYPE_CHECKING:  # modeldeck.metering pulls the store and httpx: not at first paint
    from modeldeck.metering.playground import PlaygroundCall

log = logging.getLogger(__name__)


def cost_text(record: PlaygroundCall) -> str:
    """One call's cost in words: overflow at pay-as-you-go, within the reservation, or unknown."""
    if record.error:
        return f"recorded with an error ({record.error})"
    if record.cost is None:
        return "unknown (its pay-as-you-go price is not listed)"
    if record.overflow:
        return f"{format_amount(record.cost, 'USD', exact=True)} at pay-as-you-go (overflow)"
    return "no extra cost: served within the purchased capacity"


def stats_html(record: PlaygroundCall) -> str:
    """Tokens, latency, overflow and cost of one call, as one short block."""
    overflow = "yes — beyond the purchased TPM" if record.overflow else "no"
    parts = [
        f"tokens: {record.input_tokens:,} in · {record.output_tokens:,} out"
        + (f" ({record.reasoning_tokens:,} reasoning)" if record.reasoning_tokens else ""),
        f"latency: {record.latency_ms:,.0f} ms",
        f"overflow: {overflow}",
        f"cost: {cost_text(record)}",
    ]
    if record.request_id:
        parts.append(f"request id: {record.request_id}")
    items = "".join(f"<li>{esc(p)}</li>" for p in parts)
    return f"<ul class='modeldeck-playground-stats' style='margin:4px 0'>{items}</ul>"


def max_tokens(text: str) -> int:
    """The Max tokens field read as the grammar reads token counts (256, 1k, 1,000)."""
    try:
        value = parse_value("in", text)
    except UserError:
        value = None
    if not isinstance(value, int) or value < 1:
        raise ValidationFailed(
            f"Max tokens must be a whole number of 1 or more (256, 1k), not {text!r}."
        )
    return value


def playable(deployments: list[DeploymentRecord]) -> list[DeploymentRecord]:
    """The deployments a prompt can go to: RUNNING, with a Model Code."""
    return [d for d in deployments if str(d.status) == "RUNNING" and d.deployed_model]


class Playground:
    """Deployment picker, prompt, Send; the streamed answer and the call's usage and cost."""

    def __init__(self, deck: Callable[[], DeckAPI], lock: threading.RLock) -> None:
        self._deck = deck
        self._lock = lock
        self.last_record: PlaygroundCall | None = None
        self.last_error: str | None = None
        self.answer = ""
        self.deployment = W.Dropdown(
            description="Deployment",
            options=[],
            style={"description_width": "90px"},
            layout=W.Layout(width="100%", max_width="520px"),
        )
        self.prompt = W.Textarea(
            placeholder="Ask the deployed model something…",
            layout=W.Layout(width="100%", max_width="720px", height="80px"),
        )
        self.max_tokens = W.Text(
            description="Max tokens",
            value="256",
            continuous_update=True,
            style={"description_width": "90px"},
            layout=W.Layout(width="100%", max_width="240px"),
        )
        self.send_button = W.Button(description="Send", button_style="primary", icon="paper-plane")
        self.reload_button = W.Button(description="Reload deployments", icon="refresh")
        self.output_html = W.HTML()
        self.stats_html = W.HTML()
        for widget, css in (
            (self.deployment, "modeldeck-playground-deployment"),
            (self.prompt, "modeldeck-playground-prompt"),
            (self.max_tokens, "modeldeck-playground-max-tokens"),
            (self.send_button, "modeldeck-playground-send"),
            (self.output_html, "modeldeck-playground-output"),
            (self.stats_html, "modeldeck-playground-result"),
        ):
            widget.add_class(css)
        self.send_button.on_click(lambda _b: self.send())
        self.reload_button.on_click(lambda _b: self.load())
        self.box = W.VBox(
            [
                W.HBox(
                    [self.deployment, self.reload_button], layout=W.Layout(flex_flow="row wrap")
                ),
                self.prompt,
                W.HBox([self.max_tokens, self.send_button], layout=W.Layout(flex_flow="row wrap")),
                self.output_html,
                self.stats_html,
            ]
        )

    def load(self) -> list[DeploymentRecord]:
        """Offer the RUNNING deployments (keeping the choice while it runs)."""
        try:
            with self._lock:
                rows = playable(self._deck().list_deployments())
        except Exception as exc:
            log.debug("listing deployments for the playground failed", exc_info=True)
            self.stats_html.value = error_html(exc)
            return []
        options = [(f"{d.deployed_model} · {d.model} {d.plan}", d.deployed_model) for d in rows]
        previous = self.deployment.value
        if list(self.deployment.options) != options:
            self.deployment.options = options
        values = [v for _, v in options]
        if previous in values:
            self.deployment.value = previous
        elif values:  # a fresh list selects nothing by itself: the first RUNNING one is chosen
            self.deployment.value = values[0]
        if not rows:
            self.stats_html.value = (
                f"<span style='{MUTED}'>No RUNNING deployment yet: deploy one (Estimate &amp; "
                "deploy) and reload.</span>"
            )
        elif "No RUNNING" in self.stats_html.value:
            self.stats_html.value = ""
        return rows

    def _show_answer(self, text: str) -> None:
        self.output_html.value = (
            "<pre class='modeldeck-playground-answer' style='white-space:pre-wrap;margin:4px 0'>"
            f"{esc(text)}</pre>"
        )

    def send(self) -> PlaygroundCall | None:
        """Stream the prompt to the chosen deployment; show the answer, then usage and cost."""
        self.last_record, self.last_error, self.answer = None, None, ""
        self.output_html.value = ""
        record: PlaygroundCall | None = None
        try:
            model = self.deployment.value
            if not model:
                raise ValidationFailed(
                    "Choose a RUNNING deployment first.",
                    hint="Reload deployments after a deploy has finished.",
                )
            prompt = self.prompt.value.strip()
            if not prompt:
                raise ValidationFailed("Type a prompt first.")
            limit = max_tokens(self.max_tokens.value)
            self.send_button.disabled = True
            self.stats_html.value = f"<span style='{MUTED}'>Streaming from {esc(model)}…</span>"
            with self._lock:
                events = self._deck().playground(model, prompt, limit)
            for event in events:
                if event.delta:
                    self.answer += event.delta
                    self._show_answer(self.answer)
                if event.call is not None:
                    record = event.call
            if record is None:
                raise ValidationFailed("The call ended without its usage; it may not be metered.")
        except Exception as exc:
            log.debug("playground call failed", exc_info=not isinstance(exc, UserError))
            self.last_error = str(exc)
            self.stats_html.value = error_html(exc)
            return None
        finally:
            self.send_button.disabled = False
        self.last_record = record
        self.stats_html.value = stats_html(record)
        return record

    def close(self) -> None:
        """Nothing to release: the deck owns the metered client."""
