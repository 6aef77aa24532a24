"""The plugin's switches: off without credentials, HTTP mode, Socket Mode, client base URLs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from modeldeck.errors import ConfigError
from modeldeck.plugins import describe_plugins
from modeldeck.settings import Settings, SlackSettings
from modeldeck_slack import plugin
from modeldeck_slack.clients import api_base_url, async_client, sync_client
from modeldeck_slack.socket_mode import socket_mode_handler
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import BOT_TOKEN, SIGNING_SECRET


class _Deck:
    """Enough of a deck for building the bot (no deck call is made here)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def _settings(tmp_path: Path, **slack: Any) -> Settings:
    return Settings(data_dir=tmp_path, slack=slack)


def test_the_plugin_is_installed_under_its_entry_point() -> None:
    names = {p["name"]: p for p in describe_plugins()}
    assert "slack" in names
    hooks = set(names["slack"]["hooks"])
    assert {"register_routes", "startup", "track_event", "register_renderers"} <= hooks


@pytest.mark.parametrize(
    ("slack", "missing"),
    [
        ({}, "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
        ({"bot_token": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"signing_secret": SIGNING_SECRET}, "SLACK_BOT_TOKEN"),
    ],
)
def test_off_reason_names_what_is_missing(
    tmp_path: Path, slack: dict[str, str], missing: str
) -> None:
    reason = plugin.off_reason(_settings(tmp_path, **slack))
    assert reason is not None and f"(missing: {missing})" in reason


def test_http_mode_registers_one_mount(tmp_path: Path) -> None:
    settings = _settings(tmp_path, bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    assert plugin.off_reason(settings) is None
    mounted: list[tuple[str, Any, str | None]] = []
    plugin.register_routes(
        register=lambda path, app, name=None: mounted.append((path, app, name)),
        deck=_Deck(settings),
        settings=settings,
    )
    assert [(path, name) for path, _, name in mounted] == [("/slack", "modeldeck-slack")]
    assert plugin.startup(deck=_Deck(settings), settings=settings) is None  # no app token


def test_socket_mode_only_without_signing_secret(tmp_path: Path, fake_slack: FakeSlack) -> None:
    settings = _settings(
        tmp_path, bot_token=BOT_TOKEN, app_token="xapp-test-token", api_url=fake_slack.api_url
    )
    deck = _Deck(settings)
    mounted: list[str] = []
    plugin.register_routes(
        register=lambda path, app, name=None: mounted.append(path), deck=deck, settings=settings
    )
    assert mounted == []
    runners = plugin.startup(deck=deck, settings=settings)
    assert runners is not None and len(runners) == 1
    runners[0].close()  # not awaited here: the coroutine would connect forever

    async def build() -> Any:
        return socket_mode_handler(plugin.bot_for(deck, settings), settings)

    handler = asyncio.run(build())
    assert handler.app is plugin.bot_for(deck, settings).app
    assert handler.client.web_client.base_url == fake_slack.api_url
    assert handler.app_token == "xapp-test-token"


def test_client_base_urls() -> None:
    slack = SlackSettings(bot_token=BOT_TOKEN, api_url="http://127.0.0.1:9/api")
    assert api_base_url(slack) == "http://127.0.0.1:9/api/"
    assert sync_client(slack).base_url == "http://127.0.0.1:9/api/"
    assert async_client(slack).base_url == "http://127.0.0.1:9/api/"
    assert api_base_url(SlackSettings()) == "https://slack.com/api/"
    with pytest.raises(ConfigError, match="not an http"):
        api_base_url(SlackSettings(api_url="slack.com/api"))
    assert BOT_TOKEN not in repr(slack)
