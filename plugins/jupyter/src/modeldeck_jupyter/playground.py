"""The Playground tab: send a prompt to a RUNNING deployment and see what the call cost.

The call goes through modeldeck's metering client (`Deck.metered_client`), streamed (SSE, the
compatible mode), so it is recorded and priced like any metered call and shows in `cost`. The
answer appears as it streams; then the tokens, latency, whether it overflowed the purchased TPM
and its cost (pay-as-you-go for overflow, nothing extra within the reservation, "unknown" when
the price is not listed — never $0).
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
from modeldeck_jupyter.local_deck import local
from modeldeck_jupyter.render import MUTED, error_html, esc

if TYPE_CHECKING:
    from modeldeck.metering import CallRecord, MeteredClient

log = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0  # the recorder stores a call ~0.2 s after it; `cost` then sees it


def cost_text(record: CallRecord) -> str:
    """One call's cost in words: overflow at pay-as-you-go, within the reservation, or unknown."""
    if record.cost is None:
        return "unknown (its pay-as-you-go price is not listed)"
    if record.overflow:
        return f"{format_amount(record.cost, 'USD', exact=True)} at pay-as-you-go (overflow)"
    return "no extra cost: served within the purchased capacity"


def stats_html(record: CallRecord) -> str:
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
        self._client: MeteredClient | None = None
        self.last_record: CallRecord | None = None
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

    def _metered(self) -> MeteredClient:
        if self._client is None:
            self._client = local(self._deck(), "The playground").metered_client()
        return self._client

    def _show_answer(self, text: str) -> None:
        self.output_html.value = (
            "<pre class='modeldeck-playground-answer' style='white-space:pre-wrap;margin:4px 0'>"
            f"{esc(text)}</pre>"
        )

    def send(self) -> CallRecord | None:
        """Stream the prompt to the chosen deployment; show the answer, then usage and cost."""
        self.last_record, self.last_error, self.answer = None, None, ""
        self.output_html.value = ""
        stream = None
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
            client = self._metered()
            stream = client.stream_chat(
                model, [{"role": "user", "content": prompt}], max_tokens=limit
            )
            for chunk in stream:
                for choice in chunk.get("choices") or ():
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        self.answer += str(delta)
                        self._show_answer(self.answer)
            record = stream.record
            assert record is not None  # the stream ended: the call is journaled
            client.flush(FLUSH_SECONDS)
        except Exception as exc:
            log.debug("playground call failed", exc_info=not isinstance(exc, UserError))
            self.last_error = str(exc)
            self.stats_html.value = error_html(exc)
            return None
        finally:
            if stream is not None:
                stream.close()
            self.send_button.disabled = False
        self.last_record = record
        self.stats_html.value = stats_html(record)
        return record

    def close(self) -> None:
        """Close the metered client (its recorder stores what is pending first)."""
        if self._client is not None:
            self._client.close()
            self._client = None
