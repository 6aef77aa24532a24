"""Slack Web API clients built from settings: one base URL for the async bot and the sync hooks."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from modeldeck.errors import ConfigError
from modeldeck.settings import Settings, SlackSettings

DEFAULT_API_URL = "https://slack.com/api/"


def api_base_url(slack: SlackSettings) -> str:
    """`api_url` from settings (a local fake in tests) or Slack's, always ending in `/`."""
    url = slack.api_url or DEFAULT_API_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"The Slack API URL {url!r} is not an http(s) URL.",
            hint="Set MODELDECK_SLACK_API_URL to e.g. https://slack.com/api/ or unset it.",
        )
    return url if url.endswith("/") else url + "/"


def _token(slack: SlackSettings) -> str:
    if slack.bot_token is None:
        raise ConfigError("Slack is not configured.", hint="Set SLACK_BOT_TOKEN.")
    return slack.bot_token.get_secret_value()


def sync_client(slack: SlackSettings) -> WebClient:
    """For hooks, which core calls synchronously (often in a worker thread)."""
    return WebClient(token=_token(slack), base_url=api_base_url(slack), timeout=15)


def async_client(slack: SlackSettings) -> AsyncWebClient:
    """For the Bolt app on the server's event loop."""
    return AsyncWebClient(token=_token(slack), base_url=api_base_url(slack), timeout=15)


def notify_client(settings: Settings, deck: object | None = None) -> WebClient | None:
    """The sync client alerts, App Home refreshes and the digest post with: the bot token, or
    (OAuth install, no SLACK_BOT_TOKEN) the bot token of the installed workspace."""
    if settings.slack.bot_token is not None:
        return sync_client(settings.slack)
    from modeldeck_slack.oauth import installed_bot_token

    token = installed_bot_token(settings, deck)
    if token is None:
        return None
    return WebClient(token=token, base_url=api_base_url(settings.slack), timeout=15)
