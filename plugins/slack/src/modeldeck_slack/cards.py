"""Approval cards from the deck's hooks: posted on request, updated in place, progress in thread.

Core calls hooks synchronously, usually in a worker thread, so this uses slack_sdk's sync
`WebClient`. If a hook ever runs on an event loop thread, the Slack call is handed to one
background thread instead (in order), so the loop is never blocked.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from modeldeck.domain import DeploymentRecord, RequestRecord, RequestStatus
from modeldeck.settings import Settings
from modeldeck_slack.blocks import escape, people_map, progress_text, request_card
from modeldeck_slack.clients import sync_client
from modeldeck_slack.context import current_origin

log = logging.getLogger(__name__)

CHANNEL_REF = "slack_channel"
TS_REF = "slack_ts"
THREAD_NOTE_STATUSES = {RequestStatus.EXECUTED, RequestStatus.FAILED, RequestStatus.EXPIRED}

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def slack_error(exc: Exception) -> str:
    """The Slack error code of a failed call (never the request, which holds the token)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "unknown_error")
    return type(exc).__name__


def off_the_loop(fn: Callable[[], object]) -> None:
    """Run `fn` now, unless this thread runs an event loop: then on the background thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _guarded(fn)
        return
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modeldeck-slack")
    _executor.submit(_guarded, fn)


def _guarded(fn: Callable[[], object]) -> None:
    try:
        fn()
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("Slack call failed: %s", slack_error(exc))


class CardNotifier:
    """Posts and updates request cards with the sync Web API client."""

    def __init__(self, settings: Settings, client: WebClient | None = None) -> None:
        self.settings = settings
        self.client = client or sync_client(settings.slack)
        self.people = people_map(settings.principals)

    def post_card(self, request: RequestRecord, deck: Any) -> tuple[str, str] | None:
        """Post the card in the command's channel (else the configured one) and remember where."""
        origin = current_origin()
        targets: list[str] = []
        for channel in (origin.channel if origin else None, self.settings.slack.channel):
            if channel and channel not in targets:
                targets.append(channel)
        if not targets:
            log.info(
                "request %s has no Slack channel to go to: set MODELDECK_SLACK__CHANNEL",
                request.id,
            )
            return None
        card = request_card(request, self.people)
        errors: list[str] = []
        for channel in targets:
            try:
                resp = self.client.chat_postMessage(
                    channel=channel, text=card.text, blocks=card.block_dicts(), unfurl_links=False
                )
            except SlackApiError as exc:
                errors.append(f"{channel}: {slack_error(exc)}")
                continue
            where = (str(resp["channel"]), str(resp["ts"]))
            deck.set_request_ref(request.id, CHANNEL_REF, where[0])
            deck.set_request_ref(request.id, TS_REF, where[1])
            if origin is not None:
                origin.posted[request.id] = where
            return where
        reason = "; ".join(errors)
        if origin is not None:
            origin.card_errors[request.id] = reason
        log.warning("could not post the Slack card for %s (%s)", request.id, reason)
        return None

    def update_card(self, request: RequestRecord, deck: Any) -> bool:
        """Re-render the card from the request's current state, in place (chat.update)."""
        latest: RequestRecord = deck.get_request(request.id)
        channel, ts = latest.refs.get(CHANNEL_REF), latest.refs.get(TS_REF)
        if not channel or not ts:
            return False
        card = request_card(latest, self.people)
        self.client.chat_update(channel=channel, ts=ts, text=card.text, blocks=card.block_dicts())
        origin = current_origin()
        if origin is not None:
            origin.updated.add(request.id)
        if request.status in THREAD_NOTE_STATUSES:
            self.client.chat_postMessage(
                channel=channel, thread_ts=ts, text=_outcome_note(request), unfurl_links=False
            )
        return True

    def post_progress(
        self, deployment: DeploymentRecord, old: str | None, new: str, deck: Any
    ) -> bool:
        """A status change of a deployment, in its request card's thread."""
        if deployment.request_id is None:
            if old is None and deployment.imported and self.settings.slack.channel:
                status = progress_text(deployment, old, new)
                text = (
                    f"Found a deployment created outside modeldeck: {status}."
                    " It is now tracked and billed like the others."
                )
                self.client.chat_postMessage(
                    channel=self.settings.slack.channel, text=text, unfurl_links=False
                )
                return True
            return False
        refs = deck.get_request(deployment.request_id).refs
        channel, ts = refs.get(CHANNEL_REF), refs.get(TS_REF)
        if not channel or not ts:
            return False
        self.client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=progress_text(deployment, old, new),
            unfurl_links=False,
        )
        return True


def _outcome_note(request: RequestRecord) -> str:
    if request.status == RequestStatus.EXECUTED:
        dep = f": deployment `{escape(request.deployment_id)}`" if request.deployment_id else ""
        return f":white_check_mark: Executed{dep}."
    if request.status == RequestStatus.FAILED:
        return f":warning: Execution failed: {escape(request.error or 'no detail')}"
    return ":hourglass: The request expired before enough approvals came in."


_notifiers: weakref.WeakKeyDictionary[Any, CardNotifier] = weakref.WeakKeyDictionary()
_notifiers_lock = threading.Lock()


def notifier_for(deck: Any) -> CardNotifier | None:
    """The notifier for this deck's settings, or None when Slack is off."""
    settings = getattr(deck, "settings", None)
    if not isinstance(settings, Settings) or not settings.slack.enabled:
        return None
    with _notifiers_lock:
        found = _notifiers.get(deck)
        if found is None or found.settings is not settings:
            found = CardNotifier(settings)
            _notifiers[deck] = found
        return found
