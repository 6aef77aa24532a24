"""Alerts in Slack: each `AlertRaised`, failed execution, drift and console import, posted once
to the channels its `[[alerts.routes]]` name (else the configured `slack.channel`).

Once: the core emits each of these events in the one process that won its compare-and-set (the
alert's claimed row, the execution's claim, the drift's and the import's conditional writes),
and the post itself is claimed in the store (`slack_post:<what>`), so a second emission path or
replica cannot post it again. Upfront expiry alerts (24 h, 2 h) carry a Renew button.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.settings import Settings
from modeldeck_slack.actions import RENEW_ACTION
from modeldeck_slack.blocks import clip, escape

log = logging.getLogger(__name__)

CLAIM_KIND = "slack_post"
SEVERITY_ICON = {
    "info": ":information_source:",
    "warning": ":warning:",
    "critical": ":rotating_light:",
}
RENEWABLE_KINDS = ("expiry:24h", "expiry:2h")
# Events turned into alert posts (their kind for `[[alerts.routes]]`).
EVENT_KINDS = {
    "alert_raised": None,  # the alert's own kind
    "execution_failed": "execution_failed",
    "drift_detected": "drift",
    "deployment_imported": "import",
}
# Kinds whose post goes only where a route sends it: the request card and the requester's DM
# already tell the default channel about a failed execution.
ROUTED_ONLY = {"execution_failed"}


Target = tuple[str | None, str]


@dataclass
class AlertPost:
    """What one alert looks like in Slack, and where and under which claim key it goes."""

    key: str
    kind: str
    scope: str
    severity: str
    title: str
    text: str
    channels: list[Target]  # (workspace or None for the default one, channel)
    deployment: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def renewable(self) -> bool:
        return self.kind in RENEWABLE_KINDS and self.deployment is not None

    def blocks(self) -> list[Any]:
        """Header, the message, a context line, and the Renew button for upfront expiry."""
        icon = SEVERITY_ICON.get(self.severity, ":bell:")
        out: list[Any] = [
            HeaderBlock(text=PlainTextObject(text=clip(self.title, 150))),
            SectionBlock(text=MarkdownTextObject(text=clip(f"{icon} {escape(self.text)}", 3000))),
        ]
        context = " · ".join([escape(self.kind), escape(self.scope), *self.details])
        out.append(ContextBlock(elements=[MarkdownTextObject(text=clip(context, 3000))]))
        if self.renewable:
            assert self.deployment is not None
            out.append(
                ActionsBlock(
                    block_id="modeldeck_alert_actions",
                    elements=[
                        ButtonElement(
                            text="Renew…",
                            action_id=RENEW_ACTION,
                            value=self.deployment,
                            style="primary",
                        )
                    ],
                )
            )
        return out

    def block_dicts(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.blocks()]


def _deployment_of(scope: str) -> str | None:
    return scope.split(":", 1)[1] if scope.startswith("deployment:") else None


def alert_post(event: Any, settings: Settings) -> AlertPost | None:
    """The post for one event (None: the event is not an alert Slack shows)."""
    from modeldeck import events as ev

    default: list[Target] = [(None, settings.slack.channel)] if settings.slack.channel else []

    def where(kind: str, scope: str, routed: list[str] | None = None) -> list[Target]:
        found = list(
            dict.fromkeys(
                (r.team, r.channel) for r in settings.alerts.routes if r.matches(kind, scope)
            )
        )
        if routed:  # the event's own channels (its routes) come first
            teams = dict((c, t) for t, c in found)
            found = list(dict.fromkeys([(teams.get(c), c) for c in routed] + found))
        if found:
            return found
        return [] if kind in ROUTED_ONLY else default

    if isinstance(event, ev.AlertRaised):
        return AlertPost(
            key=f"alert:{event.alert_id}",
            kind=event.kind,
            scope=event.scope,
            severity=event.severity,
            title=event.title,
            text=event.message,
            channels=where(event.kind, event.scope, list(event.channels)),
            deployment=_deployment_of(event.scope),
            details=[escape(event.period)],
        )
    if isinstance(event, ev.ExecutionFailed):
        req = event.request
        scope = f"deployment:{req.deployment_id}" if req.deployment_id else f"request:{req.id}"
        return AlertPost(
            key=f"failed:{req.id}",
            kind="execution_failed",
            scope=scope,
            severity="critical",
            title=clip(f"Request {req.id} failed: {req.summary}", 150),
            text=event.error,
            channels=where("execution_failed", scope),
            details=[f"requested by {escape(req.requester)}"],
        )
    if isinstance(event, ev.DriftDetected):
        scope = f"deployment:{event.deployment_id}"
        change = ", ".join(
            f"{k} {event.stored.get(k)} → {v}"
            for k, v in event.provider.items()
            if event.stored.get(k) != v
        )
        return AlertPost(
            key=f"drift:{event.deployment_id}:{event.at.isoformat()}",
            kind="drift",
            scope=scope,
            severity="warning",
            title=clip(f"{event.deployment_id}: capacity changed outside modeldeck", 150),
            text=f"Model Studio now reports {change or 'a different capacity'}; modeldeck "
            "follows the provider and bills what it reports.",
            channels=where("drift", scope),
            deployment=event.deployment_id,
        )
    if isinstance(event, ev.DeploymentImported):
        dep = event.deployment
        scope = f"deployment:{dep.id}"
        name = dep.name or dep.deployed_model or dep.id
        return AlertPost(
            key=f"import:{dep.id}",
            kind="import",
            scope=scope,
            severity="info",
            title=clip(f"Found {name}, made outside modeldeck", 150),
            text=f"{name} ({dep.model} {dep.plan} {dep.billing}, {dep.status}) was created in "
            "the console or another tool; it is now tracked and billed like the others.",
            channels=where("import", scope),
            deployment=dep.id,
        )
    return None


class AlertPoster:
    """Posts alert events to their channels once (sync Web API client, from the hooks)."""

    def __init__(self, settings: Settings, client: WebClient) -> None:
        self.settings = settings
        self.client = client
        self._teams: dict[str, WebClient] = {}

    def client_for(self, team: str | None, deck: Any) -> WebClient | None:
        """The default client, or (a route naming a workspace) that workspace's installed bot."""
        if team is None:
            return self.client
        if team not in self._teams:
            from modeldeck_slack.clients import api_base_url
            from modeldeck_slack.oauth import installed_bot_token

            token = installed_bot_token(self.settings, deck, team=team)
            if token is None:
                return None
            self._teams[team] = WebClient(
                token=token, base_url=api_base_url(self.settings.slack), timeout=15
            )
        return self._teams[team]

    def on_event(self, event: Any, deck: Any) -> list[tuple[str, str]]:
        """Post the event's alert where its routes say; the (channel, ts) of each post."""
        post = alert_post(event, self.settings)
        if post is None or not post.channels:
            return []
        claim = getattr(deck, "claim_once", None)
        if callable(claim) and not claim(CLAIM_KIND, f"{CLAIM_KIND}:{post.key}"):
            log.info("alert %s was already posted", post.key)
            return []
        posted = []
        blocks = post.block_dicts()
        for team, channel in post.channels:
            client = self.client_for(team, deck)
            if client is None:
                log.warning("alert %s: workspace %s has not installed modeldeck", post.key, team)
                continue
            try:
                resp = client.chat_postMessage(
                    channel=channel, text=clip(post.title, 3000), blocks=blocks, unfurl_links=False
                )
            except (SlackApiError, SlackClientError) as exc:
                from modeldeck_slack.cards import slack_error

                log.warning(
                    "could not post alert %s to %s: %s", post.key, channel, slack_error(exc)
                )
                continue
            posted.append((str(resp["channel"]), str(resp["ts"])))
        return posted


_posters: weakref.WeakKeyDictionary[Any, AlertPoster] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def poster_for(deck: Any) -> AlertPoster | None:
    """The alert poster of this deck's settings, or None when Slack is off."""
    from modeldeck_slack.clients import notify_client

    settings = getattr(deck, "settings", None)
    if not isinstance(settings, Settings) or not settings.slack.enabled:
        return None
    with _lock:
        found = _posters.get(deck)
        if found is None or found.settings is not settings:
            client = notify_client(settings, deck)
            if client is None:
                return None
            found = AlertPoster(settings, client)
            _posters[deck] = found
        return found
