"""The Slack plugin's hook implementations (entry point `modeldeck.slack`).

HTTP mode mounts the Bolt app at `/slack` (Slack's Request URL: `<server>/slack/events`);
Socket Mode runs when `SLACK_APP_TOKEN` is set. Without a bot token and a signing secret (or app
token) the plugin logs once that Slack is off and does nothing else.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

from modeldeck.hookspecs import hookimpl

if TYPE_CHECKING:
    from modeldeck.settings import Settings
    from modeldeck_slack.bot import SlackBot
    from modeldeck_slack.cards import CardNotifier

# Every modeldeck process loads this entry point; slack_bolt, slack_sdk and aiohttp are imported
# only once Slack is configured, and modeldeck.settings (pydantic-settings) only when a hook
# runs, so the CLI (`modeldeck --help` too) and notebooks stay quick to start.

log = logging.getLogger("modeldeck_slack")

_state_lock = threading.Lock()
_off_logged = False
_bots: weakref.WeakKeyDictionary[Any, SlackBot] = weakref.WeakKeyDictionary()


def _slack_on(settings: object) -> TypeGuard[Settings]:
    """Whether `settings` are modeldeck's and turn Slack on (a deck without them: off)."""
    from modeldeck.settings import Settings

    return isinstance(settings, Settings) and settings.slack.enabled


def off_reason(settings: Settings) -> str | None:
    """Why the Slack bot is off, or None when it is on."""
    slack = settings.slack
    if slack.enabled:
        return None
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", slack.bot_token),
            ("SLACK_SIGNING_SECRET", slack.signing_secret),
        )
        if value is None
    ]
    return (
        "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode), or "
        f"SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), to turn on /deck and approval "
        f"cards (missing: {', '.join(missing)})."
    )


def _log_off_once(settings: Settings) -> bool:
    """Log the off line the first time only; True when Slack is off."""
    global _off_logged
    reason = off_reason(settings)
    if reason is None:
        return False
    with _state_lock:
        if not _off_logged:
            _off_logged = True
            log.info(reason)
    return True


def bot_for(deck: Any, settings: Settings) -> SlackBot:
    """One bot per deck, shared by the HTTP endpoint and Socket Mode."""
    from modeldeck_slack.bot import SlackBot

    with _state_lock:
        bot = _bots.get(deck)
        if bot is None or bot.settings is not settings:
            bot = SlackBot(deck, settings)
            _bots[deck] = bot
        return bot


@hookimpl
def register_routes(register: Callable[..., None], deck: Any, settings: Settings) -> None:
    """Mount `POST /slack/events` when Slack is configured for HTTP mode."""
    if _log_off_once(settings):
        return
    if settings.slack.signing_secret is None:
        log.info("Slack HTTP endpoint off (no SLACK_SIGNING_SECRET); Socket Mode only.")
        return
    from modeldeck_slack.endpoint import MOUNT_PATH, slack_asgi_app

    bot = bot_for(deck, settings)
    register(MOUNT_PATH, slack_asgi_app(bot.app), name="modeldeck-slack")


@hookimpl
def startup(deck: Any, settings: Settings) -> list[Any] | None:
    """Socket Mode runner when `SLACK_APP_TOKEN` is set; the weekly digest's loop when
    `[slack.digest]` is configured."""
    if _log_off_once(settings):
        return None
    tasks: list[Any] = []
    if settings.slack.digest is not None:
        from modeldeck_slack.digest import digest_loop

        tasks.append(digest_loop(deck, settings))
    if settings.slack.app_token is not None:
        from modeldeck_slack.socket_mode import socket_mode_runner

        tasks.append(socket_mode_runner(bot_for(deck, settings), settings))
    return tasks or None


def _notify(deck: Any, action: Callable[[CardNotifier], object]) -> None:
    """Run a card action when this deck has Slack configured; import Slack only then."""
    settings = getattr(deck, "settings", None)
    if not _slack_on(settings):
        return
    from modeldeck_slack.cards import notifier_for, off_the_loop
    from modeldeck_slack.oauth import oauth_notifier

    notifier = notifier_for(deck) if settings.slack.bot_token else oauth_notifier(deck)
    if notifier is not None:
        off_the_loop(lambda: action(notifier))


@hookimpl
def register_renderers(register: Callable[..., None]) -> None:
    """Block Kit cards for `/deck` answers (slack_sdk is imported only when one is drawn)."""
    from modeldeck import results as r

    def lazy(name: str) -> Callable[..., Any]:
        def draw(result: Any, **context: Any) -> Any:
            from modeldeck_slack import paging, renderers

            return paging.fit(getattr(renderers, name)(result, **context))

        return draw

    for result_type, name in (
        (r.Result, "text"),
        (r.CostResult, "cost"),
        (r.ApprovalsResult, "approvals"),
        (r.DecisionResult, "decision"),
        (r.RequestResult, "request"),
        (r.HelpResult, "help_topic"),
        (r.ModelsResult, "models"),
        (r.EstimateResult, "estimate"),
        (r.ComparisonResult, "comparison"),
        (r.DeploymentsResult, "deployments"),
        (r.DeploymentStatusResult, "status"),
        (r.ForecastResult, "forecast"),
        (r.BudgetResult, "budget"),
        (r.BudgetSetResult, "budget_set"),
        (r.AlertsResult, "alerts"),
        (r.CapacityPlanResult, "plan"),
        (r.SchedulesResult, "schedules"),
    ):
        register(result_type, "slack", lazy(name))


@hookimpl
def track_event(event: Any, deck: Any) -> None:
    """Cards, threads and the requester's DMs from the typed event stream.

    The request card is posted on `request_created`, updated on every decision and outcome,
    progress goes to the thread of the card of the request that caused it, and the requester
    hears every decision, failure, expiry and RUNNING in a DM with a link to the card.
    """
    if event.name in ALERT_EVENTS:
        _post_alert(deck, event)
    if event.name not in NOTIFIED_EVENTS:
        _refresh_home(deck, event)
        return
    _notify(deck, lambda notifier: notifier.on_event(event, deck))
    _refresh_home(deck, event)  # after the card: the dashboard shows the new state


ALERT_EVENTS = frozenset({"alert_raised"})  # the core raises events' alerts as AlertRaised too


def _refresh_home(deck: Any, event: Any) -> None:
    """Republish App Home for the users who opened it, when the event changed their view."""
    settings = getattr(deck, "settings", None)
    if not _slack_on(settings):
        return
    from modeldeck_slack.home import HOME_EVENTS, publisher_for

    if event.name not in HOME_EVENTS:
        return
    from modeldeck_slack.cards import off_the_loop

    publisher = publisher_for(deck)
    if publisher is not None:
        off_the_loop(lambda: publisher.on_event(event, deck))


def _post_alert(deck: Any, event: Any) -> None:
    """Every raised alert to its routed channels (alerts_post.py)."""
    settings = getattr(deck, "settings", None)
    if not _slack_on(settings):
        return
    from modeldeck_slack.alerts_post import poster_for
    from modeldeck_slack.cards import off_the_loop

    poster = poster_for(deck)
    if poster is not None:
        off_the_loop(lambda: poster.on_event(event, deck))


NOTIFIED_EVENTS = frozenset(
    {
        "request_created",
        "request_decided",
        "request_withdrawn",
        "request_stale",
        "execution_succeeded",
        "execution_failed",
        "deployment_status_changed",
    }
)
