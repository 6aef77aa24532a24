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
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from modeldeck.domain import DeploymentRecord, RequestRecord, RequestStatus
from modeldeck.settings import Settings
from modeldeck_slack.blocks import (
    Before,
    clip,
    escape,
    note_card,
    people_map,
    progress_text,
    request_card,
    who,
)
from modeldeck_slack.clients import sync_client
from modeldeck_slack.context import current_origin

log = logging.getLogger(__name__)

CHANNEL_REF = "slack_channel"
TS_REF = "slack_ts"
LINK_REF = "slack_permalink"
THREAD_NOTE_STATUSES = {
    RequestStatus.EXECUTED,
    RequestStatus.FAILED,
    RequestStatus.EXPIRED,
    RequestStatus.STALE,
    RequestStatus.WITHDRAWN,
}

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
    """Posts and updates request cards, threads and the requester's DMs (sync Web API client).

    Driven by the typed event stream (`on_event`, from the `track_event` hook): each event is
    emitted once, by whoever won its compare-and-set, so each card, thread line and DM is sent
    once however many replicas run.
    """

    def __init__(self, settings: Settings, client: WebClient | None = None) -> None:
        self.settings = settings
        self.client = client or sync_client(settings.slack)
        self.people = people_map(settings.principals)

    # -- the event stream ----------------------------------------------------------------------

    def on_event(self, event: Any, deck: Any) -> None:
        """Route one typed event to the card, its thread and the requester's DM."""
        from modeldeck import events as ev

        if isinstance(event, ev.RequestCreated):
            self.post_card(event.request, deck)
        elif isinstance(event, ev.RequestDecided):
            if event.verdict not in ("approve", "auto_approve"):
                self.update_card(event.request, deck)
            if event.verdict != "auto_approve":  # the requester was told in the answer
                self.tell_requester(event.request, deck, decision_dm(event, self.people))
        elif isinstance(event, ev.RequestWithdrawn | ev.RequestStale):
            self.update_card(event.request, deck)  # labelled, and its buttons gone
            if isinstance(event, ev.RequestStale):
                self.tell_requester(event.request, deck, stale_dm(event.request, event.why))
        elif isinstance(event, ev.ExecutionSucceeded | ev.ExecutionFailed):
            self.update_card(event.request, deck)
            error = event.error if isinstance(event, ev.ExecutionFailed) else None
            self.tell_requester(event.request, deck, execution_dm(event.request, error))
        elif isinstance(event, ev.DeploymentStatusChanged):
            request = self.post_progress(event.deployment, event.old_status, event.new_status, deck)
            if (
                request is not None
                and event.new_status == "RUNNING"
                and event.old_status != "RUNNING"
            ):
                self.tell_requester(request, deck, running_dm(event.deployment, request))

    # -- cards ---------------------------------------------------------------------------------

    def card_for(self, request: RequestRecord) -> Any:
        """The request's card, naming who can still decide it and what it changes from."""
        before = Before.from_refs(request.refs)
        return request_card(request, self.people, deciders(self.settings, request), before)

    def post_card(self, request: RequestRecord, deck: Any) -> tuple[str, str] | None:
        """Post the card in the command's channel (else the configured one) and remember where.

        A command typed in a direct message posts its card in the configured approvals
        channel (approvers never see the DM); the DM gets a link to it.
        """
        origin = current_origin()
        configured = self.settings.slack.channel
        targets: list[str] = []
        here = origin.channel if origin else None
        if here and is_direct_message(here) and configured:
            here = None
        for channel in (here, configured):
            if channel and channel not in targets:
                targets.append(channel)
        if not targets:
            log.info(
                "request %s has no Slack channel to go to: set MODELDECK_SLACK__CHANNEL",
                request.id,
            )
            return None
        before = before_of(request, deck)
        if before is not None:
            for key, value in before.as_refs().items():
                deck.set_request_ref(request.id, key, value)
            request = request.model_copy(update={"refs": {**request.refs, **before.as_refs()}})
        card = self.card_for(request)
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
            link = self.permalink(*where)
            if link:
                deck.set_request_ref(request.id, LINK_REF, link)
            if origin is not None:
                origin.posted[request.id] = where
                if link:
                    origin.links[request.id] = link
            return where
        reason = "; ".join(errors)
        if origin is not None:
            origin.card_errors[request.id] = reason
        log.warning("could not post the Slack card for %s (%s)", request.id, reason)
        return None

    def permalink(self, channel: str, ts: str) -> str | None:
        """The card's permalink (chat.getPermalink), or None when Slack will not give one."""
        try:
            resp = self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, SlackClientError) as exc:
            log.info("no permalink for %s/%s: %s", channel, ts, slack_error(exc))
            return None
        link = resp.get("permalink")
        return str(link) if link else None

    def update_card(self, request: RequestRecord, deck: Any) -> bool:
        """Re-render the card from the request's current state, in place (chat.update)."""
        latest: RequestRecord = deck.get_request(request.id)
        channel, ts = latest.refs.get(CHANNEL_REF), latest.refs.get(TS_REF)
        if not channel or not ts:
            return False
        card = self.card_for(latest)
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
    ) -> RequestRecord | None:
        """A status change, in the thread of the card of the request that caused it."""
        request = request_behind(deployment, deck)
        if request is None:
            if old is None and deployment.imported and self.settings.slack.channel:
                status = progress_text(deployment, old, new)
                text = (
                    f"Found a deployment created outside modeldeck: {status}."
                    " It is now tracked and billed like the others."
                )
                self.client.chat_postMessage(
                    channel=self.settings.slack.channel, text=text, unfurl_links=False
                )
            return None
        channel, ts = request.refs.get(CHANNEL_REF), request.refs.get(TS_REF)
        if channel and ts:
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=progress_text(deployment, old, new),
                unfurl_links=False,
            )
        return request

    # -- the requester's DM ---------------------------------------------------------------------

    def tell_requester(self, request: RequestRecord, deck: Any, text: str) -> bool:
        """DM the requester (when they have a Slack user) with a link to the card."""
        user = slack_user_of(request.requester, self.people)
        if user is None:
            return False
        latest: RequestRecord = deck.get_request(request.id)
        link = latest.refs.get(LINK_REF)
        if link:
            text += f"\n<{link}|Open the request card>"
        opened = self.client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        self.client.chat_postMessage(
            channel=channel,
            text=clip(text, 3000),
            blocks=note_card(text).block_dicts(),
            unfurl_links=False,
        )
        return True


def before_of(request: RequestRecord, deck: Any) -> Before | None:
    """The deployment a scale or limits request changes, as it is now (priced per day)."""
    from modeldeck.domain import DeploySpec
    from modeldeck.errors import ModeldeckError

    if request.kind not in ("scale", "limits") or not request.deployment_id:
        return None
    try:
        dep = deck.get_deployment(request.deployment_id)
    except ModeldeckError:
        return None
    per_day = None
    if request.kind == "scale":
        spec = DeploySpec(
            model=dep.model,
            plan=dep.plan,
            mode=dep.mode,
            billing=dep.billing,
            units=dep.units if dep.plan == "mu" else None,
            input_tpm=dep.input_tpm if dep.plan == "ptu" else None,
            output_tpm=dep.output_tpm if dep.plan == "ptu" else None,
        )
        try:
            per_day = deck.estimate(spec).per_day
        except ModeldeckError as exc:  # unknown price: the card says so by omitting the change
            log.info("could not price %s as it is now: %s", dep.id, exc)
    return Before(
        capacity=dep.capacity,
        per_day=per_day,
        rpm_limit=dep.rpm_limit,
        tpm_limit=dep.tpm_limit,
    )


def is_direct_message(channel: str) -> bool:
    """Slack's direct-message channel ids start with D."""
    return channel.startswith("D")


def slack_user_of(principal: str, people: Mapping[str, str]) -> str | None:
    """The Slack user id of a principal: the principals mapping, or an open-mode `slack:U…`."""
    user = people.get(principal)
    if user:
        return user
    if principal.startswith("slack:") and principal[6:].isalnum():
        return principal[6:]
    return None


def deciders(settings: Settings, request: RequestRecord) -> list[str] | None:
    """Slack ids of the people who may decide `request` (not its requester); None = anyone."""
    if not settings.principals:
        return None
    role = request.policy.approver_role
    return [
        p.slack_user
        for p in settings.principals
        if p.slack_user
        and p.name != request.requester
        and (role in p.roles or "admin" in p.roles)
        and ("approver" in p.roles or "admin" in p.roles)
    ]


def request_behind(deployment: DeploymentRecord, deck: Any) -> RequestRecord | None:
    """The request whose card owns this deployment's progress: the latest change under way or
    done on it (a scale, limits, unpublish), else the deploy that created it."""
    from modeldeck.errors import UserError

    changes = [
        r
        for status in ("executing", "executed")
        for r in deck.list_requests(status)
        if r.deployment_id == deployment.id and r.kind != "deploy"
    ]
    if changes:
        return max(changes, key=lambda r: r.created_at)
    if deployment.request_id is None:
        return None
    try:
        found: RequestRecord = deck.get_request(deployment.request_id)
    except UserError:
        return None
    return found


def decision_dm(event: Any, people: Mapping[str, str]) -> str:
    """What the requester reads about a vote, a rejection or an expiry."""
    request: RequestRecord = event.request
    rid = f"`{escape(request.id)}` ({escape(request.summary)})"
    voter = who(event.actor, people) if event.actor and event.actor != "system" else "Someone"
    if event.verdict == "approve":
        return f":white_check_mark: {voter} approved your request {rid}; it is being carried out."
    if event.verdict == "partial":
        left = request.approvals_remaining
        return (
            f":ballot_box_with_check: {voter} approved your request {rid}: "
            f"{left} more approval{'s' if left != 1 else ''} needed."
        )
    if event.verdict == "reject":
        reason = event.reason or next(
            (d.reason for d in reversed(request.decisions) if d.verdict == "reject" and d.reason),
            None,
        )
        why = f"\n>{escape(reason)}" if reason else ""
        return f":x: {voter} rejected your request {rid}.{why}"
    if event.verdict == "expire":
        return f":hourglass: Your request {rid} expired before enough approvals came in."
    return f"Your request {rid} is now {escape(request.status.value)}."


def execution_dm(request: RequestRecord, error: str | None = None) -> str:
    """What the requester reads when their request was carried out or (with `error`) failed."""
    rid = f"`{escape(request.id)}` ({escape(request.summary)})"
    if error is not None or request.status == RequestStatus.FAILED:
        detail = error or request.error or "no detail"
        return f":warning: Your request {rid} failed: {escape(detail)}"
    dep = f" Deployment `{escape(request.deployment_id)}`." if request.deployment_id else ""
    return f":white_check_mark: Your request {rid} was carried out.{dep}"


def stale_dm(request: RequestRecord, why: str) -> str:
    """What the requester reads when their pending request went stale (nobody can approve it)."""
    rid = f"`{escape(request.id)}` ({escape(request.summary)})"
    return (
        f":no_entry_sign: Your request {rid} is stale and can no longer be approved: "
        f"{escape(why)} Request it again if it is still wanted."
    )


def running_dm(deployment: DeploymentRecord, request: RequestRecord) -> str:
    """What the requester reads when the deployment they asked for is RUNNING (and billing)."""
    name = escape(deployment.name or deployment.deployed_model or deployment.id)
    return (
        f":rocket: `{name}` is now *RUNNING* (request `{escape(request.id)}`): "
        "it is serving and billing."
    )


def _outcome_note(request: RequestRecord) -> str:
    if request.status == RequestStatus.EXECUTED:
        dep = f": deployment `{escape(request.deployment_id)}`" if request.deployment_id else ""
        return f":white_check_mark: Executed{dep}."
    if request.status == RequestStatus.FAILED:
        return f":warning: Execution failed: {escape(request.error or 'no detail')}"
    if request.status == RequestStatus.STALE:
        why = escape(request.error or "no detail")
        return f":no_entry_sign: Stale, no longer approvable: {why}"
    if request.status == RequestStatus.WITHDRAWN:
        return ":leftwards_arrow_with_hook: Withdrawn by the requester."
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
