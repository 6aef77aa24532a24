"""The Bolt `AsyncApp`: the /deck slash command, the approval buttons and App Home.

`process_before_response=False`: Bolt answers Slack as soon as a listener calls `ack()` and lets
the listener continue as a task, so a slow deck call never holds the HTTP answer past Slack's
3 seconds. Every deck call runs in a worker thread (`asyncio.to_thread`), never on the loop.
Read-only commands are answered in the ack itself (one that takes longer than
`ACK_BUDGET_SECONDS` is acknowledged with "Working on it" and answered through `response_url`).
A command that writes (deploy, scale, limits, unpublish, approve, reject) acks with only its
validation and, for a deploy, the estimate; the store write, card and answer follow the ack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackObjectFormationError
from slack_sdk.web.async_client import AsyncWebClient

from modeldeck.domain import Actor, RequestRecord
from modeldeck.errors import ModeldeckRuntimeError, NotLinked, PermissionDenied, UserError
from modeldeck.settings import Settings
from modeldeck_slack.actions import register_fallbacks
from modeldeck_slack.blocks import (
    APPROVE_ACTION,
    REJECT_ACTION,
    Before,
    Card,
    clip,
    error_card,
    escape,
    estimate_commitment,
    people_map,
    request_card,
    result_card,
    spec_is_open_ended,
)
from modeldeck_slack.cards import deciders, slack_error
from modeldeck_slack.charts_post import chart_command, chart_text
from modeldeck_slack.context import ORIGIN, SlackOrigin
from modeldeck_slack.dedup import SeenEvents, SharedEvents, dedup_middleware
from modeldeck_slack.home import open_home, register_home
from modeldeck_slack.interactions import register_interactions
from modeldeck_slack.modals import (
    DEPLOY_MODAL,
    DEPLOY_SELECTS,
    REJECT_MODAL,
    CardRef,
    deploy_modal,
    deploy_text,
    field_of_error,
    reject_modal,
    reject_reason,
)
from modeldeck_slack.oauth import app_options
from modeldeck_slack.submissions import command_key, view_key

log = logging.getLogger(__name__)

T = TypeVar("T")
ACK_BUDGET_SECONDS = 2.0
WORKING = "Requesting"
# Verbs that write (a request, a vote): acked after validation only, carried out after the ack.
AFTER_ACK_VERBS = {
    "deploy", "scale", "limits", "unpublish", "renew", "schedule", "unschedule", "withdraw",
    "approve", "reject",
}  # fmt: skip
ESTIMATE_HINT = "Choose a model, a plan and the capacity to see what it costs."
OPEN_VERBS = {"", "help"}
INTERNAL_ERROR = (
    "Something went wrong inside modeldeck; nothing was shown here on purpose. "
    "The operator can find the details in the server log."
)


class SlackBot:
    """Listeners bound to one deck; `app` is the Bolt app to mount or run in Socket Mode."""

    def __init__(
        self, deck: Any, settings: Settings, *, client: AsyncWebClient | None = None
    ) -> None:
        self.deck = deck
        self.settings = settings
        self.people = people_map(settings.principals)
        slack = settings.slack
        # The token travels inside the client (Bolt warns when given both).
        self.app = AsyncApp(
            signing_secret=(
                slack.signing_secret.get_secret_value() if slack.signing_secret else None
            ),
            **app_options(deck, settings, client),  # a bot token, or the OAuth flow (oauth.py)
            process_before_response=False,
            request_verification_enabled=slack.signing_secret is not None,
            name="modeldeck",
        )
        self.seen_events = SeenEvents()
        self.app.middleware(dedup_middleware(self.seen_events, SharedEvents(deck)))
        register_fallbacks(self)  # buttons of alerts and App Home (actions.py, home.py)
        register_home(self)
        self.app.command("/deck")(self.on_command)
        self.app.action(APPROVE_ACTION)(self.on_approve)
        self.app.action(REJECT_ACTION)(self.on_reject)
        self.app.view(REJECT_MODAL)(self.on_reject_submitted)
        self.app.view(DEPLOY_MODAL)(self.on_deploy_submitted)
        self.app.action(re.compile(f"^({'|'.join(DEPLOY_SELECTS)})$"))(self.on_deploy_changed)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.ui = register_interactions(self)  # change modals, shortcuts, withdraw, share, more

    # -- helpers -------------------------------------------------------------------------------

    async def _call(self, origin: SlackOrigin | None, fn: Callable[..., T], *args: Any) -> T:
        """Run a deck call in a worker thread, with the Slack origin visible to the hooks."""
        return await asyncio.to_thread(_with_origin, origin, fn, *args)

    async def _actor(self, user: str) -> Actor:
        actor: Actor = await self._call(None, self.deck.resolve_actor, "slack", user)
        return actor

    # -- /deck -----------------------------------------------------------------------------------

    async def on_command(
        self,
        ack: Callable[..., Awaitable[Any]],
        command: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
    ) -> None:
        """Answer `/deck <command>` ephemerally; a deploy also posts its card in the channel."""
        origin = SlackOrigin(channel=command.get("channel_id"), user=str(command.get("user_id")))
        charted = chart_text(str(command.get("text") or ""))
        if charted is not None:
            await chart_command(self, ack, respond, client, charted, origin)
            return
        if str(command.get("text") or "").strip().lower() == "deploy":
            await ack()
            await self.open_deploy_modal(command, origin, respond, client)
            return
        if await self.ui.open_form_for(ack, command, respond, self.app.client):
            return  # `scale|renew|unpublish <deployment>` alone: its modal
        text = str(command.get("text") or "")
        if _writes(text):
            await self.ack_then_run(ack, respond, text, origin, key=command_key(command))
            return
        task = asyncio.ensure_future(self.answer(text, origin))
        try:
            card = await asyncio.wait_for(asyncio.shield(task), ACK_BUDGET_SECONDS)
        except TimeoutError:
            await ack(text="Working on it…", response_type="ephemeral")
            card = await task
            await respond(
                text=card.text,
                blocks=_dicts(card),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        await ack(text=card.text, blocks=_dicts(card), response_type="ephemeral")

    async def ack_then_run(
        self,
        ack: Callable[..., Awaitable[Any]],
        respond: Any,
        text: str,
        origin: SlackOrigin,
        *,
        key: str | None = None,
    ) -> None:
        """A change: ack with its validation (and the estimate) only; run it after the ack.

        The store write, the card and the answer happen once, in this listener after `ack()`
        (Bolt keeps it running); the answer and any error go to the user's response_url.
        `key` (the command's trigger_id) makes a replayed delivery answer with the first request.
        """
        refusal, preview = await self.validate(text, origin)
        if refusal is not None:
            await ack(text=refusal.text, blocks=_dicts(refusal), response_type="ephemeral")
            return
        await ack(text=clip(f"{WORKING} {preview}", 3000), response_type="ephemeral")
        card = await self.answer(text, origin, key=key)
        try:
            await respond(
                text=card.text,
                blocks=_dicts(card),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception as exc:  # the card and DMs still tell the requester
            log.warning("could not answer /deck %s: %s", _verb_of(text), type(exc).__name__)

    async def validate(self, text: str, origin: SlackOrigin) -> tuple[Card | None, str]:
        """Parse, resolve the user and price a deploy: (a refusal, or None and what it costs).

        Roles are checked by the deck after the ack (the refusal reaches the response_url)."""
        from modeldeck.grammar import parse

        try:
            command = parse(text)
            await self._actor(origin.user)  # an unlinked user is refused in the ack
            spec = getattr(command, "spec", None)
            if command.verb == "deploy" and spec is not None:
                est = await self._call(None, self.deck.estimate, spec)
                what = escape(f"deploy {spec.model} {spec.plan}")
                return None, f"{what}: {estimate_commitment(est, spec_is_open_ended(spec))}."
        except UserError as exc:
            return error_card(str(exc)), ""
        except ModeldeckRuntimeError as exc:
            return error_card(f"modeldeck could not do that right now: {exc}"), ""
        return None, f"{escape(command.verb)}…"

    async def answer(self, text: str, origin: SlackOrigin, *, key: str | None = None) -> Card:
        """Run one command for a Slack user and say what happened, never with a traceback.

        `key` is the submission's idempotency key (a replay answers with the first request)."""
        from modeldeck.grammar import parse
        from modeldeck.rendering import render

        text = text.strip()
        verb = text.split(maxsplit=1)[0].lower() if text else ""
        try:
            command = parse(text or "help")  # parsed once, here; the deck gets the command
            verb = command.verb
            try:
                actor = await self._actor(origin.user)
            except NotLinked as exc:
                if verb not in OPEN_VERBS:
                    return error_card(str(exc))
                actor = Actor(principal=f"slack:{origin.user}", surface="slack", roles=[])
            run = partial(self.deck.run, idempotency_key=key) if key else self.deck.run
            result = await self._call(origin, run, command, actor)
        except UserError as exc:
            return error_card(str(exc))
        except ModeldeckRuntimeError as exc:
            return error_card(f"modeldeck could not do that right now: {exc}")
        except Exception:
            log.exception("/deck %s failed", verb or "help")
            return error_card(INTERNAL_ERROR)
        try:
            card: Card = render(result, "slack", people=self.people, origin=origin, command=text)
        except (ValueError, TypeError, KeyError, LookupError, UserError):
            log.warning("could not lay out the %s answer; sending its text", verb)
            card = result_card(result)
        return card

    # -- the deploy modal ----------------------------------------------------------------------

    async def open_deploy_modal(
        self,
        command: dict[str, Any],
        origin: SlackOrigin,
        respond: Any,
        client: AsyncWebClient | None = None,
    ) -> None:
        """`/deck deploy` with no arguments: the form (the trigger lives 3 s: opened first)."""
        try:
            rows = await self._call(None, self.deck.models)
            models = list(dict.fromkeys(str(r["model"]) for r in rows))
            view = deploy_modal(models, origin.channel, ESTIMATE_HINT)
            opener = client or self.app.client  # the request's workspace token under OAuth
            await opener.views_open(trigger_id=command["trigger_id"], view=view.to_dict())
        except (SlackApiError, SlackClientError, KeyError) as exc:
            log.warning("could not open the deploy modal: %s", type(exc).__name__)
            await respond(
                text="Slack would not open the form; type `/deck deploy <model> <plan> …` "
                "(`/deck help deploy`).",
                response_type="ephemeral",
            )

    async def _price(self, view: dict[str, Any]) -> str:
        """The estimate section for what the form says so far."""
        from modeldeck.grammar import parse

        text, _ = deploy_text(view)
        if text is None:
            return ESTIMATE_HINT
        try:
            command = parse(text)
            spec = command.spec  # type: ignore[attr-defined]
            est = await self._call(None, self.deck.estimate, spec)
        except UserError as exc:
            return f":warning: {escape(str(exc))}"
        return f"*Estimate*\n{estimate_commitment(est, spec_is_open_ended(spec))}"

    async def on_deploy_changed(
        self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A select changed inside the deploy modal: re-price and update the view in place."""
        await ack()
        view = body.get("view") or {}
        if view.get("callback_id") != DEPLOY_MODAL:
            return
        estimate = await self._price(view)
        meta = json.loads(str(view.get("private_metadata") or "{}"))
        rows = await self._call(None, self.deck.models)
        models = list(dict.fromkeys(str(r["model"]) for r in rows))
        fresh = deploy_modal(models, meta.get("c"), estimate)
        try:
            await client.views_update(
                view_id=view["id"], hash=view.get("hash"), view=fresh.to_dict()
            )
        except (SlackApiError, SlackClientError) as exc:  # a newer change won: it re-prices
            log.info("deploy modal not updated: %s", slack_error(exc))

    async def on_deploy_submitted(
        self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Validate (grammar + estimate) in the ack; the request, its card and the answer after."""
        from modeldeck.grammar import parse

        view = body.get("view") or {}
        text, errors = deploy_text(view)
        if text is not None:
            try:
                spec = parse(text).spec  # type: ignore[attr-defined]
                await self._call(None, self.deck.estimate, spec)
            except UserError as exc:
                errors = {field_of_error(str(exc)): clip(str(exc), 150)}
        if errors or text is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        meta = json.loads(str(view.get("private_metadata") or "{}"))
        user = str((body.get("user") or {}).get("id") or "")
        origin = SlackOrigin(channel=meta.get("c"), user=user)
        card = await self.answer(text, origin, key=view_key(view))
        channel = origin.channel or (await client.conversations_open(users=user))["channel"]["id"]
        try:
            await client.chat_postEphemeral(
                channel=channel, user=user, text=card.text, blocks=_dicts(card)
            )
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not tell %s about their deploy: %s", user, slack_error(exc))

    # -- buttons -------------------------------------------------------------------------------

    async def on_approve(
        self,
        ack: Callable[..., Awaitable[Any]],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: Any,
    ) -> None:
        await ack()
        await self._decide(body, client, respond, approve=True)

    async def on_reject(
        self,
        ack: Callable[..., Awaitable[Any]],
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: Any,
    ) -> None:
        """Open the reject modal (the reason is asked there); refuse at once who cannot decide."""
        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        request_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        try:
            actor = await self._actor(user)
            if not {"approver", "admin"} & set(actor.roles):
                raise PermissionDenied(
                    f"{actor.principal} may not decide (roles: {', '.join(actor.roles) or 'none'})."
                )
            request: RequestRecord = await self._call(None, self.deck.get_request, request_id)
            ref = CardRef(request_id, channel, container.get("message_ts"))
            await client.views_open(
                trigger_id=body["trigger_id"], view=reject_modal(request, ref).to_dict()
            )
        except UserError as exc:
            await self._ephemeral(client, respond, channel, user, f":warning: {escape(str(exc))}")
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not open the reject modal: %s", slack_error(exc))
            await self._ephemeral(
                client,
                respond,
                channel,
                user,
                f"Slack would not open the form; run `/deck reject {escape(request_id)} "
                'reason="…"` instead.',
            )

    async def on_reject_submitted(
        self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The reason is checked in the ack (errors shown in the modal); the rejection after."""
        view = body.get("view") or {}
        reason, errors = reject_reason(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        ref = CardRef.load(str(view.get("private_metadata") or ""))
        user = str((body.get("user") or {}).get("id") or "")
        await self._decide_request(
            client, None, ref.channel, ref.ts, {}, user, ref.request_id, reason=reason
        )

    async def _decide(
        self, body: dict[str, Any], client: AsyncWebClient, respond: Any, *, approve: bool
    ) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        message_ts = container.get("message_ts")
        actions = body.get("actions") or [{}]
        request_id = str(actions[0].get("value") or "")
        await self._decide_request(
            client, respond, channel, message_ts, container, user, request_id, approve=approve
        )

    async def _decide_request(
        self,
        client: AsyncWebClient,
        respond: Any,
        channel: str | None,
        message_ts: str | None,
        container: dict[str, Any],
        user: str,
        request_id: str,
        *,
        approve: bool = False,
        reason: str | None = None,
    ) -> None:
        """Record one approval or rejection and tell the person; the card follows."""
        origin = SlackOrigin(channel=channel, user=user)

        async def tell(text: str) -> None:
            await self._ephemeral(client, respond, channel, user, text)

        try:
            actor = await self._actor(user)
            request: RequestRecord = await self._call(origin, self.deck.get_request, request_id)
            if approve and actor.principal == request.requester:
                await tell(
                    f"You requested `{escape(request.id)}`, so you cannot approve it. "
                    "Another approver has to."
                )
                return
            if approve:
                outcome = await self._call(origin, self.deck.approve, request_id, actor)
            else:
                outcome = await self._call(origin, self.deck.reject, request_id, actor, reason)
        except UserError as exc:
            await tell(f":warning: {escape(str(exc))}")
            return
        except ModeldeckRuntimeError as exc:
            await tell(f":warning: modeldeck could not record that right now: {escape(str(exc))}")
            return
        except Exception:
            log.exception("Slack decision on %s failed", request_id)
            await tell(f":warning: {INTERNAL_ERROR}")
            return
        # A losing click must not repaint the card with a state the winner is still moving
        # past (approved/executing): the winner's own update is the last word then.
        in_flight = outcome.outcome == "already_decided" and outcome.request.status.value in (
            "approved",
            "executing",
        )
        if request_id not in origin.updated and channel and message_ts and not in_flight:
            await self._refresh_card(client, request_id, channel, message_ts, container)
        await tell(escape(outcome.message))

    async def _refresh_card(
        self,
        client: AsyncWebClient,
        request_id: str,
        channel: str,
        ts: str,
        container: dict[str, Any],
    ) -> None:
        if container.get("is_ephemeral"):
            return
        try:
            latest: RequestRecord = await self._call(None, self.deck.get_request, request_id)
            before = Before.from_refs(latest.refs)
            card = request_card(latest, self.people, deciders(self.settings, latest), before)
            await client.chat_update(
                channel=channel, ts=ts, text=card.text, blocks=card.block_dicts()
            )
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not update the card of %s: %s", request_id, slack_error(exc))

    async def _ephemeral(
        self, client: AsyncWebClient, respond: Any, channel: str | None, user: str, text: str
    ) -> None:
        """Tell only the person who clicked (chat.postEphemeral, else their response_url)."""
        text = clip(text, 3000)
        if channel:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except (SlackApiError, SlackClientError) as exc:
                log.info("chat.postEphemeral failed (%s); using response_url", slack_error(exc))
        if respond is None:  # a modal submission has no response_url
            log.info("could not tell %s ephemerally (no channel, no response_url)", user)
            return
        try:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception as exc:  # nothing else is left to tell the user with
            log.warning("could not answer %s: %s", user, type(exc).__name__)

    # -- App Home ------------------------------------------------------------------------------

    async def on_home_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """App Home: the dashboard (home.py), published whenever it is opened."""
        await open_home(self, event, client)


def _verb_of(text: str) -> str:
    words = text.strip().split(maxsplit=1)
    return words[0].lower() if words else ""


def _writes(text: str) -> bool:
    """A command that stores something (a request, a vote): a change verb, or `plan … apply`."""
    words = [w.lower() for w in text.split()]
    if not words:
        return False
    return words[0] in AFTER_ACK_VERBS or (words[0] == "plan" and "apply" in words)


def _with_origin(origin: SlackOrigin | None, fn: Callable[..., T], *args: Any) -> T:
    """Runs in the worker, inside the context copy `to_thread` made: the origin stays there."""
    ORIGIN.set(origin)
    return fn(*args)


def _dicts(card: Card) -> list[dict[str, Any]] | None:
    """The card's blocks, or None (text only) if slack_sdk finds them invalid: never a 500."""
    try:
        return card.block_dicts()
    except SlackObjectFormationError as exc:
        log.error("dropped invalid blocks from an answer: %s", exc)
        return None
