"""The bot's forms: the scale, renew and unpublish modals, the deploy shortcuts and buttons.

`register_interactions(bot)` adds these listeners and those of `answer_actions` (Withdraw,
Share to channel, More) to the bot's Bolt app (one call in `SlackBot`).
Every modal submission becomes the same `/deck` command text the grammar parses, so a form
and a typed command make the same request through the same workflow; the grammar's message
for a bad field comes back in the submission's ack as `response_action: errors`.

Entry points other surfaces (App Home) reuse: the `OPEN_*_ACTION` buttons of `modals`
(value: the deployment id) and `open_deploy`, `open_change` here.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import PlainTextObject, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from modeldeck.domain import DeploymentRecord, DeploySpec, capacity_text
from modeldeck.errors import UserError
from modeldeck_slack.answer_actions import AnswerActions
from modeldeck_slack.blocks import (
    WITHDRAW_ACTION,
    Card,
    clip,
    escape,
    estimate_commitment,
    money,
    signed_money,
)
from modeldeck_slack.cards import slack_error
from modeldeck_slack.context import SlackOrigin
from modeldeck_slack.modals import (
    CHANGE_FIELD_PREFIX,
    CHANGE_FIELDS,
    DEPLOY_SHORTCUT,
    DEPLOYMENT_MENU_ACTION,
    MENU_VERBS,
    OPEN_DEPLOY_ACTION,
    OPEN_RENEW_ACTION,
    OPEN_SCALE_ACTION,
    OPEN_UNPUBLISH_ACTION,
    RENEW_MODAL,
    SCALE_MODAL,
    UNPUBLISH_MODAL,
    DeploymentRef,
    change_field_of_error,
    deploy_modal,
    deployment_name,
    renew_modal,
    renew_text,
    renewable,
    scale_modal,
    scale_text,
    thinks,
    unpublish_modal,
    unpublish_text,
)
from modeldeck_slack.paging import MORE_ACTION, SHARE_ACTION
from modeldeck_slack.slack_bodies import Ack, action_value, channel_of, user_of
from modeldeck_slack.submissions import view_key

if TYPE_CHECKING:
    from modeldeck_slack.bot import SlackBot

log = logging.getLogger(__name__)

ESTIMATE_HINT = "Choose a model, a plan and the capacity to see what it costs."
TEXT_OF = {SCALE_MODAL: scale_text, RENEW_MODAL: renew_text, UNPUBLISH_MODAL: unpublish_text}
FIELDS_OF = {
    SCALE_MODAL: ("units", "in", "out", "thinking_out", "reason"),
    RENEW_MODAL: ("days", "auto_renew", "reason"),
    UNPUBLISH_MODAL: ("confirm", "reason"),
}
CHANGE_ACTIONS = re.compile(f"^{CHANGE_FIELD_PREFIX}({'|'.join(CHANGE_FIELDS)})$")


def register_interactions(bot: SlackBot) -> Interactions:
    """Add the change modals, shortcuts, Withdraw, Share and More listeners to `bot.app`."""
    ui = Interactions(bot)
    app = bot.app
    app.shortcut(DEPLOY_SHORTCUT)(ui.on_deploy_shortcut)
    app.action(OPEN_DEPLOY_ACTION)(ui.on_open_deploy)
    for action in (OPEN_SCALE_ACTION, OPEN_RENEW_ACTION, OPEN_UNPUBLISH_ACTION):
        app.action(action)(ui.on_open_change)
    app.action(DEPLOYMENT_MENU_ACTION)(ui.on_open_change)
    app.action(CHANGE_ACTIONS)(ui.on_change_field)
    for callback in (SCALE_MODAL, RENEW_MODAL, UNPUBLISH_MODAL):
        app.view(callback)(ui.on_change_submitted)
    buttons = AnswerActions(bot)
    app.action(WITHDRAW_ACTION)(buttons.on_withdraw)
    app.action(SHARE_ACTION)(buttons.on_share)
    app.action(MORE_ACTION)(buttons.on_more)
    return ui


def notice_modal(title: str, text: str) -> View:
    """A modal that only says something (no submit): why a form cannot be offered."""
    return View(
        type="modal",
        title=PlainTextObject(text=clip(title, 24)),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=clip(text, 3000))],
    )


def renewal_spec(dep: DeploymentRecord, days: int) -> DeploySpec:
    """What a renewal is priced as: `days` of the order at today's daily price (the workflow's
    own rule, `workflow.renewals`)."""
    return DeploySpec(
        model=dep.model,
        plan="ptu",
        mode=dep.mode,
        billing="upfront",
        days=days,
        input_tpm=dep.input_tpm,
        output_tpm=dep.output_tpm,
    )


class Interactions:
    """Listeners that need the bot's deck, its worker-thread calls and its answers."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    # -- opening forms ---------------------------------------------------------------------

    async def open_deploy(
        self,
        client: AsyncWebClient,
        trigger_id: str,
        channel: str | None,
        reason: str | None = None,
    ) -> None:
        """Open the deploy modal (models from the catalog; `reason` prefilled if given)."""
        rows = await self.bot._call(None, self.bot.deck.models)
        models = list(dict.fromkeys(str(r["model"]) for r in rows))
        view = deploy_modal(models, channel, ESTIMATE_HINT, reason=reason)
        await client.views_open(trigger_id=trigger_id, view=view.to_dict())

    async def open_change(
        self,
        client: AsyncWebClient,
        trigger_id: str,
        verb: str,
        deployment_ref: str,
        channel: str | None = None,
    ) -> None:
        """Open the scale, renew or unpublish modal for a deployment (by id, code or name).

        A deployment that is gone, or a renew of anything but an upfront PTU order, opens a
        modal that says why instead of a form."""
        try:
            dep: DeploymentRecord = await self.bot._call(
                None, self.bot.deck.get_deployment, deployment_ref
            )
        except UserError as exc:
            view = notice_modal(verb.capitalize(), f":warning: {escape(str(exc))}")
            await client.views_open(trigger_id=trigger_id, view=view.to_dict())
            return
        ref = DeploymentRef(dep.id, channel)
        if verb == "scale":
            view = scale_modal(
                dep, ref, await self.price_scale(dep, None), thinking=self.thinking_field(dep)
            )
        elif verb == "renew" and renewable(dep):
            view = renew_modal(dep, ref, "Type the days and press Enter to see the price.")
        elif verb == "renew":
            view = notice_modal(
                "Renew",
                f"`{escape(deployment_name(dep))}` is billed {dep.plan} {dep.billing}: only an "
                "upfront PTU order is renewed through Model Studio. Hourly deployments run "
                "until unpublished; a monthly MU package is renewed in the console.",
            )
        else:
            view = unpublish_modal(dep, ref)
        await client.views_open(trigger_id=trigger_id, view=view.to_dict())

    async def open_form_for(
        self, ack: Ack, command: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> bool:
        """`/deck scale|renew|unpublish <deployment>` with nothing else opens its modal (the
        trigger lives 3 s, so the ack comes first); False for any other command."""
        words = str(command.get("text") or "").split()
        if len(words) != 2 or words[0].lower() not in MENU_VERBS:
            return False
        await ack()
        channel = command.get("channel_id")
        try:
            await self.open_change(
                client, str(command.get("trigger_id")), words[0].lower(), words[1], channel
            )
        except (SlackApiError, SlackClientError, KeyError) as exc:
            log.warning("could not open the %s modal: %s", words[0], slack_error(exc))
            await respond(
                text=f"Slack would not open the form; type the whole command "
                f"(`/deck help {escape(words[0].lower())}`).",
                response_type="ephemeral",
            )
        return True

    async def on_deploy_shortcut(
        self, ack: Ack, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Global or message shortcut: the deploy modal (a message's text becomes the reason)."""
        await ack()
        message = body.get("message") or {}
        reason = str(message.get("text") or "").strip() or None
        try:
            await self.open_deploy(client, str(body.get("trigger_id")), channel_of(body), reason)
        except (SlackApiError, SlackClientError, UserError) as exc:
            log.warning("could not open the deploy modal: %s", slack_error(exc))

    async def on_open_deploy(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        try:
            await self.open_deploy(client, str(body.get("trigger_id")), channel_of(body))
        except (SlackApiError, SlackClientError, UserError) as exc:
            log.warning("could not open the deploy modal: %s", slack_error(exc))

    async def on_open_change(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A Scale…/Renew…/Unpublish… button (value: deployment id) or the list's menu."""
        await ack()
        action = (body.get("actions") or [{}])[0]
        value = action_value(body)
        if action.get("action_id") == DEPLOYMENT_MENU_ACTION:
            verb, _, dep_id = value.partition(":")
        else:
            verb = next((v for v, a in MENU_VERBS.items() if a == action.get("action_id")), "")
            dep_id = value
        if verb not in MENU_VERBS or not dep_id:
            return
        try:
            trigger = str(body.get("trigger_id"))
            await self.open_change(client, trigger, verb, dep_id, channel_of(body))
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not open the %s modal: %s", verb, slack_error(exc))

    def thinking_field(self, dep: DeploymentRecord) -> bool:
        """Whether the scale form asks for thinking output TPM: a PTU deployment in thinking
        mode on the legacy Model Studio API (the reservations API takes none: its output TPM
        serves thinking too), or one that already reserves some."""
        settings = getattr(self.bot.deck, "settings", None)
        provider = getattr(settings, "provider", None)
        legacy = getattr(provider, "api_generation", None) == "legacy"
        return thinks(dep) and (legacy or bool(dep.thinking_output_tpm))

    # -- live prices -----------------------------------------------------------------------

    async def _estimate(self, spec: DeploySpec) -> Any:
        return await self.bot._call(None, self.bot.deck.estimate, spec)

    async def price_scale(self, dep: DeploymentRecord, view: dict[str, Any] | None) -> str:
        """Now → new capacity and the cost difference per day for what the form says."""
        from modeldeck.grammar import parse
        from modeldeck.workflow.targets import scale_target

        now_spec = DeploySpec(
            model=dep.model,
            plan=dep.plan,
            mode=dep.mode,
            billing=dep.billing,
            units=dep.units if dep.plan == "mu" else None,
            input_tpm=dep.input_tpm if dep.plan == "ptu" else None,
            output_tpm=dep.output_tpm if dep.plan == "ptu" else None,
            thinking_output_tpm=dep.thinking_output_tpm if dep.plan == "ptu" else None,
        )
        try:
            now = await self._estimate(now_spec)
        except UserError as exc:
            now = None
            log.info("could not price %s as it is now: %s", dep.id, exc)
        now_day = f" · {money(now.per_day, now.currency)} per day" if now is not None else ""
        lines = [f"*Cost*\nNow: {escape(dep.capacity)}{now_day}"]
        text, _ = scale_text(view or {}, dep)
        if view is None or text is None:
            return "\n".join([*lines, "Type the new capacity and press Enter to see the change."])
        try:
            spec = parse(text).spec  # type: ignore[attr-defined]
            _, target = scale_target(dep, spec)
            new = await self._estimate(target)
        except UserError as exc:
            return "\n".join([*lines, f":warning: {escape(str(exc))}"])
        new_capacity = escape(
            capacity_text(
                dep.plan,
                target.units,
                target.input_tpm,
                target.output_tpm,
                target.thinking_output_tpm,
            )
        )
        lines.append(f"New: {new_capacity} · {money(new.per_day, new.currency)} per day")
        if now is not None and now.per_day is not None and new.per_day is not None:
            diff = Decimal(new.per_day) - Decimal(now.per_day)
            month = ""
            if now.per_30_days is not None and new.per_30_days is not None:
                delta = Decimal(new.per_30_days) - Decimal(now.per_30_days)
                month = f" ({signed_money(delta, new.currency)} per 30 days)"
            lines.append(f"*Change: {signed_money(diff, new.currency)} per day*{month}")
        if dep.billing != "hourly":
            lines.append("A prepaid order is re-priced over its term on the request card.")
        return "\n".join(lines)

    async def price_renew(self, dep: DeploymentRecord, view: dict[str, Any]) -> str:
        """What renewing for the days typed costs (the order at today's daily price)."""
        from modeldeck.grammar import parse

        text, _ = renew_text(view, dep)
        if text is None:
            return "Type the days and press Enter to see the price."
        try:
            spec = parse(text).spec  # type: ignore[attr-defined]
            est = await self._estimate(renewal_spec(dep, spec.days))
        except UserError as exc:
            return f":warning: {escape(str(exc))}"
        auto = " Then renewed automatically." if spec.auto_renew else ""
        return f"*Cost*\n{spec.days} more days of {escape(dep.capacity)}: " + (
            f"{estimate_commitment(est, False)}.{auto}"
        )

    async def on_change_field(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Enter pressed (or auto-renew chosen) in a change modal: re-price, update in place."""
        await ack()
        view = body.get("view") or {}
        callback = view.get("callback_id")
        if callback not in (SCALE_MODAL, RENEW_MODAL):
            return
        ref = DeploymentRef.load(str(view.get("private_metadata") or ""))
        try:
            dep: DeploymentRecord = await self.bot._call(
                None, self.bot.deck.get_deployment, ref.deployment_id
            )
        except UserError as exc:
            log.info("change modal for a deployment that is gone: %s", exc)
            return
        if callback == SCALE_MODAL:
            fresh = scale_modal(
                dep, ref, await self.price_scale(dep, view), thinking=self.thinking_field(dep)
            )
        else:
            fresh = renew_modal(dep, ref, await self.price_renew(dep, view))
        try:
            await client.views_update(
                view_id=view["id"], hash=view.get("hash"), view=fresh.to_dict()
            )
        except (SlackApiError, SlackClientError) as exc:  # a newer change won: it re-prices
            log.info("change modal not updated: %s", slack_error(exc))

    # -- submissions -----------------------------------------------------------------------

    async def on_change_submitted(
        self, ack: Ack, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Scale, renew or unpublish: fields checked by the grammar in the ack; the request,
        its card and the answer after (the same workflow as the typed command)."""
        from modeldeck.grammar import parse

        view = body.get("view") or {}
        callback = str(view.get("callback_id"))
        ref = DeploymentRef.load(str(view.get("private_metadata") or ""))
        fields = FIELDS_OF[callback]
        try:
            dep: DeploymentRecord = await self.bot._call(
                None, self.bot.deck.get_deployment, ref.deployment_id
            )
        except UserError as exc:
            await ack(response_action="errors", errors={fields[0]: clip(str(exc), 150)})
            return
        text, errors = TEXT_OF[callback](view, dep)
        if text is not None:
            try:
                await self.check_priced(parse(text), dep)
            except UserError as exc:
                errors = {change_field_of_error(str(exc), fields): clip(str(exc), 150)}
        if errors or text is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = user_of(body)
        origin = SlackOrigin(channel=ref.channel, user=user)
        card = await self.bot.answer(text, origin, key=view_key(view))  # one request per view
        await self.tell(client, user, ref.channel, card)

    async def check_priced(self, command: Any, dep: DeploymentRecord) -> None:
        """Price what a scale or renew form asks for, so a capacity out of bounds or a price
        that is not listed is a field error in the ack (UserError), as for the deploy form."""
        from modeldeck.workflow.targets import scale_target

        if command.verb == "scale":
            await self._estimate(scale_target(dep, command.spec)[1])
        elif command.verb == "renew":
            await self._estimate(renewal_spec(dep, command.spec.days))

    async def tell(
        self, client: AsyncWebClient, user: str, channel: str | None, card: Card
    ) -> None:
        """Show `card` to `user` only: ephemerally where the form was opened, else (App Home,
        or a channel Slack refuses) in their DM with the bot."""
        if channel is not None:
            try:
                await client.chat_postEphemeral(
                    channel=channel, user=user, text=card.text, blocks=card.block_dicts()
                )
                return
            except (SlackApiError, SlackClientError) as exc:
                log.info("no ephemeral answer in %s (%s); using the DM", channel, slack_error(exc))
        try:
            opened = await client.conversations_open(users=user)
            await client.chat_postMessage(
                channel=str(opened["channel"]["id"]), text=card.text, blocks=card.block_dicts()
            )
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not tell %s about their request: %s", user, slack_error(exc))
