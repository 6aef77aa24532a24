"""The buttons on answers and cards: Withdraw (the requester only), Share to channel, More.

Registered by `interactions.register_interactions`. Share and More run the command the button
carries again, for the person who clicked, so the answer is computed at the click.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from modeldeck.domain import Actor
from modeldeck.errors import ModeldeckRuntimeError, NotLinked, UserError
from modeldeck_slack.blocks import Card, error_card, escape
from modeldeck_slack.cards import slack_error
from modeldeck_slack.context import SlackOrigin
from modeldeck_slack.paging import More, shared_by
from modeldeck_slack.slack_bodies import Ack, action_value, channel_of, user_of

if TYPE_CHECKING:
    from modeldeck.results import Result
    from modeldeck_slack.bot import SlackBot

log = logging.getLogger(__name__)

SHAREABLE_VERBS = {"estimate", "cost", "budget", "plan"}  # `compare` parses to an estimate
NOT_SHAREABLE = (
    "Only estimates, comparisons, costs, forecasts, budgets and plans can be shared "
    "(not `budget set` or `plan … apply`, which change something)."
)


def shareable(text: str) -> bool:
    """A read-only answer the channel may see: estimate/compare, cost (and its forecast), the
    budget view, a plan that applies nothing."""
    from modeldeck.grammar import parse

    command = parse(text)
    if command.verb not in SHAREABLE_VERBS:
        return False
    if getattr(command, "action", None) == "set":  # `budget set` writes
        return False
    return not getattr(command, "apply", False)  # `plan … apply` makes a request


class AnswerActions:
    """Withdraw, Share and More, bound to the bot's deck and its worker-thread calls."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    # -- withdraw --------------------------------------------------------------------------

    async def on_withdraw(
        self, ack: Ack, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Withdraw from the card: the deck lets only the requester; others are told why."""
        await ack()
        user, channel = user_of(body), channel_of(body)
        container = body.get("container") or {}
        request_id = action_value(body)
        origin = SlackOrigin(channel=channel, user=user)
        bot = self.bot
        try:
            actor = await bot._actor(user)
            outcome = await bot._call(origin, bot.deck.withdraw, request_id, actor)
        except UserError as exc:
            await bot._ephemeral(client, respond, channel, user, f":warning: {escape(str(exc))}")
            return
        except ModeldeckRuntimeError as exc:
            await bot._ephemeral(
                client, respond, channel, user, f":warning: modeldeck could not record that: {exc}"
            )
            return
        ts = container.get("message_ts")
        if request_id not in origin.updated and channel and ts:
            await bot._refresh_card(client, request_id, channel, str(ts), container)
        await bot._ephemeral(client, respond, channel, user, escape(outcome.message))

    # -- share and more --------------------------------------------------------------------

    async def run(self, text: str, origin: SlackOrigin) -> Result:
        """Run a read-only command again for the person who clicked (UserError if refused)."""
        from modeldeck.grammar import parse

        command = parse(text)
        try:
            actor: Actor = await self.bot._actor(origin.user)
        except NotLinked:
            if command.verb != "help":  # as for a typed command: only help is open to all
                raise
            actor = Actor(principal=f"slack:{origin.user}", surface="slack", roles=[])
        result: Result = await self.bot._call(origin, self.bot.deck.run, command, actor)
        return result

    def card_of(self, result: Result, origin: SlackOrigin, **context: Any) -> Card:
        from modeldeck.rendering import render

        card: Card = render(result, "slack", people=self.bot.people, origin=origin, **context)
        return card

    async def on_share(
        self, ack: Ack, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Share to channel: the same answer (run again now) posted in the channel, attributed."""
        await ack()
        user, channel = user_of(body), channel_of(body)
        text = action_value(body)
        origin = SlackOrigin(channel=channel, user=user)
        bot = self.bot
        try:
            if not shareable(text):
                raise UserError(NOT_SHAREABLE)
            result = await self.run(text, origin)
            card = shared_by(self.card_of(result, origin, command=text), user)
        except (UserError, ModeldeckRuntimeError) as exc:
            await bot._ephemeral(client, respond, channel, user, f":warning: {escape(str(exc))}")
            return
        if channel is None:
            return
        try:
            await client.chat_postMessage(
                channel=channel, text=card.text, blocks=card.block_dicts(), unfurl_links=False
            )
        except (SlackApiError, SlackClientError) as exc:
            await bot._ephemeral(
                client,
                respond,
                channel,
                user,
                f"Could not share it here ({slack_error(exc)}): invite the bot to this channel.",
            )

    async def on_more(self, ack: Ack, body: dict[str, Any], respond: Any) -> None:
        """More: the next page of the same answer, in place of the one clicked."""
        await ack()
        more = More.load(action_value(body))
        origin = SlackOrigin(channel=channel_of(body), user=user_of(body))
        try:
            result = await self.run(more.command, origin)
            card = self.card_of(result, origin, command=more.command, start=more.start)
        except (UserError, ModeldeckRuntimeError) as exc:
            card = error_card(str(exc))
        try:
            await respond(
                text=card.text,
                blocks=card.block_dicts(),
                response_type="ephemeral",
                replace_original=True,
            )
        except Exception as exc:  # the page is lost, nothing else is
            log.warning("could not show the next page: %s", type(exc).__name__)
