"""Action ids of the buttons alerts, the digest and App Home show, in one place.

The deploy/scale/renew/unpublish ids are the ones the change modals listen for (the modals'
own module names them `OPEN_*_ACTION`; a button's value is the deployment id), so a click on
an alert's Renew button or an App Home button opens the same form. Until those modals are
registered, `register_fallbacks` answers such a click with the command to type instead.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError

if TYPE_CHECKING:
    from modeldeck_slack.bot import SlackBot

log = logging.getLogger(__name__)

DEPLOY_ACTION = "modeldeck_open_deploy"
SCALE_ACTION = "modeldeck_open_scale"
RENEW_ACTION = "modeldeck_open_renew"
UNPUBLISH_ACTION = "modeldeck_open_unpublish"
# App Home's Approve / Reject reuse the card's ids (blocks.APPROVE_ACTION, REJECT_ACTION).
HOME_REFRESH_ACTION = "modeldeck_home_refresh"
HOME_PAGE_ACTION = "modeldeck_home_page"  # value: the page of deployments to show

# What to type when the form is not there (the grammar's own verbs).
COMMAND_HINTS = {
    DEPLOY_ACTION: "/deck deploy",
    SCALE_ACTION: "/deck scale {ref} units=<n>  (or in=<TPM> out=<TPM>)",
    RENEW_ACTION: "/deck renew {ref} days=30",
    UNPUBLISH_ACTION: "/deck unpublish {ref}",
}
MODALS_MODULE = "modeldeck_slack.interactions"


def modals_present() -> bool:
    """Whether the change modals' listeners exist in this build (they own these ids)."""
    return importlib.util.find_spec(MODALS_MODULE) is not None


def register_fallbacks(bot: SlackBot) -> None:
    """Without the change modals, a click on one of their buttons gets the command to type."""
    if modals_present():
        return
    for action_id in COMMAND_HINTS:
        bot.app.action(action_id)(hint_listener(action_id))


def hint_listener(action_id: str) -> Callable[..., Awaitable[None]]:
    """A listener telling the clicker, privately, the command that does what the button says."""

    async def hint(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], client: Any) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        ref = str(action.get("value") or "<deployment>")
        user = str((body.get("user") or {}).get("id") or "")
        text = f"Type `{COMMAND_HINTS[action_id].format(ref=ref)}` to do that."
        channel = (body.get("container") or {}).get("channel_id")
        try:
            if channel:
                await client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:  # App Home: the bot's DM with the user
                opened = await client.conversations_open(users=user)
                await client.chat_postMessage(channel=opened["channel"]["id"], text=text)
        except (SlackApiError, SlackClientError) as exc:
            log.info("could not send the %s hint: %s", action_id, type(exc).__name__)

    return hint
