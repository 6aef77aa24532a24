"""App Home as a dashboard (views.publish): spend this month and the forecast per deployment,
capacity and status with Scale / Renew / Unpublish, pending requests with Approve / Reject, and
Deploy; republished for the users who opened it when an event changes what it shows.

Within Slack's 100 blocks for a home view: deployments are paged (`PAGE_SIZE` a page, Next /
Previous buttons), pending requests are the oldest `MAX_PENDING` with a count of the rest.
A view identical to the one last published for a user is not published again, so an event
that changes nothing (or is delivered twice) costs no Slack call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from modeldeck.domain import DeploymentRecord, RequestRecord
from modeldeck.errors import ModeldeckError, UserError
from modeldeck.settings import Settings
from modeldeck_slack.actions import (
    DEPLOY_ACTION,
    HOME_PAGE_ACTION,
    HOME_REFRESH_ACTION,
    RENEW_ACTION,
    SCALE_ACTION,
    UNPUBLISH_ACTION,
)
from modeldeck_slack.blocks import APPROVE_ACTION, REJECT_ACTION, clip, commitment, escape, money

log = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100
PAGE_SIZE = 15
MAX_PENDING = 10
MAX_VIEWERS = 200
VIEWER_KIND = "slack_home"
# Events after which App Home may show something else.
HOME_EVENTS = frozenset(
    {
        "request_created",
        "request_decided",
        "request_withdrawn",
        "request_stale",
        "execution_succeeded",
        "execution_failed",
        "deployment_status_changed",
        "deployment_imported",
        "drift_detected",
        "order_recorded",
        "alert_raised",
        "budget_changed",
    }
)
LIVE = {"RUNNING", "PENDING", "UPDATING", "DEPLOYING", "STOPPED", "HIBERNATING", "FAILED"}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))


def _button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id, value=value, style=style)


def deployment_blocks(dep: DeploymentRecord, forecast: Any | None) -> list[Any]:
    """One deployment: name, model, capacity, status, spend to date and forecast; its buttons."""
    name = dep.name or dep.deployed_model or dep.id
    spend = "spend unknown"
    if forecast is not None:
        spend = (
            f"{money(forecast.to_date, forecast.currency)} so far · "
            f"{money(forecast.total, forecast.currency)} forecast this month"
        )
    text = (
        f"*{escape(name)}* · `{escape(dep.status)}`\n"
        f"{escape(dep.model)} {dep.plan} {dep.billing} · {escape(dep.capacity)}\n{spend}"
    )
    buttons = [_button("Scale…", SCALE_ACTION, dep.id)]
    if dep.billing in ("upfront", "monthly"):
        buttons.append(_button("Renew…", RENEW_ACTION, dep.id))
    buttons.append(_button("Unpublish…", UNPUBLISH_ACTION, dep.id, "danger"))
    return [_section(text), ActionsBlock(block_id=f"dep_{dep.id}"[:255], elements=buttons)]


def request_blocks(req: RequestRecord) -> list[Any]:
    """One pending request: what, who, what it commits to; Approve / Reject."""
    cost = f" · {commitment(req)}" if req.estimate is not None else ""
    text = f"*{escape(req.summary)}*{cost}\n`{escape(req.id)}` by {escape(req.requester)}"
    buttons = [
        _button("Approve", APPROVE_ACTION, req.id, "primary"),
        _button("Reject…", REJECT_ACTION, req.id, "danger"),
    ]
    return [_section(text), ActionsBlock(block_id=f"req_{req.id}"[:255], elements=buttons)]


def home_view(
    pending: Sequence[RequestRecord],
    deployments: Sequence[DeploymentRecord],
    forecasts: dict[str, Any],
    *,
    page: int = 0,
    notice: str | None = None,
) -> View:
    """The dashboard, at most 100 blocks whatever the number of deployments and requests."""
    live = [d for d in deployments if d.status.upper() in LIVE]
    pages = max(1, -(-len(live) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    known = [forecasts[d.id] for d in live if d.id in forecasts]
    currency = known[0].currency if known else "USD"
    to_date = sum((f.to_date for f in known), Decimal(0))
    total = sum((f.total for f in known), Decimal(0))
    blocks: list[Any] = [
        HeaderBlock(text=PlainTextObject(text="modeldeck")),
        ActionsBlock(
            block_id="home_top",
            elements=[
                _button("Deploy…", DEPLOY_ACTION, "deploy", "primary"),
                _button("Refresh", HOME_REFRESH_ACTION, str(page)),
            ],
        ),
    ]
    if notice:
        blocks.append(_section(f":warning: {escape(notice)}"))
    unknown = len(live) - len(known)
    note = f" ({unknown} without a price: not in the total)" if unknown else ""
    blocks += [
        HeaderBlock(text=PlainTextObject(text="Spend this month")),
        _section(
            f"*{money(to_date, currency)}* so far · *{money(total, currency)}* forecast "
            f"to the month's end{note}\n{len(live)} live deployment{'s' if len(live) != 1 else ''}"
        ),
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Waiting for approval")),
    ]
    if not pending:
        blocks.append(_section("Nothing is waiting for approval."))
    for req in list(pending)[:MAX_PENDING]:
        blocks += request_blocks(req)
    if len(pending) > MAX_PENDING:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{len(pending) - MAX_PENDING} more: `/deck approvals` lists them all."
                    )
                ]
            )
        )
    blocks += [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Deployments"))]
    if not live:
        blocks.append(_section("No deployments yet. Deploy one with the button above."))
    for dep in live[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        blocks += deployment_blocks(dep, forecasts.get(dep.id))
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_button("Previous", HOME_PAGE_ACTION, str(page - 1)))
        if page < pages - 1:
            nav.append(_button("Next", HOME_PAGE_ACTION, str(page + 1)))
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Page {page + 1} of {pages} ({len(live)})")]
            )
        )
        blocks.append(ActionsBlock(block_id="home_pages", elements=nav))
    assert len(blocks) <= MAX_HOME_BLOCKS, len(blocks)
    return View(type="home", blocks=blocks)


@dataclass
class HomeData:
    """What every dashboard shows, read once per refresh (not once per viewer)."""

    pending: list[RequestRecord]
    deployments: list[DeploymentRecord]
    forecasts: dict[str, Any]
    notice: str | None = None


def home_data(deck: Any) -> HomeData:
    """Pending requests, deployments and this month's forecast per deployment."""
    pending = deck.list_requests("pending")
    deployments = deck.list_deployments()
    try:
        report = deck.forecast(None, "month")
    except ModeldeckError as exc:  # the dashboard still shows what it can
        return HomeData(pending, deployments, {}, f"The forecast is unavailable: {exc}")
    return HomeData(pending, deployments, {f.deployment_id: f for f in report.forecasts})


def build_home(deck: Any, user: str, page: int = 0, data: HomeData | None = None) -> View:
    """The dashboard for one Slack user (a user modeldeck does not know sees why)."""
    try:
        deck.resolve_actor("slack", user)
        data = data or home_data(deck)
    except UserError as exc:
        return View(type="home", blocks=[_section(f":warning: {escape(str(exc))}")])
    return home_view(data.pending, data.deployments, data.forecasts, page=page, notice=data.notice)


def digest_of(view: View) -> str:
    return hashlib.sha256(json.dumps(view.to_dict(), sort_keys=True).encode()).hexdigest()


class HomePublisher:
    """Publishes App Home views (sync Web API client) and remembers what each user last got."""

    def __init__(self, settings: Settings, client: Any) -> None:
        self.settings = settings
        self.client = client
        self.pages: dict[str, int] = {}
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def remember(self, deck: Any, user: str) -> None:
        """Record a user who opened App Home (in the store: every replica refreshes them)."""
        claim: Callable[[str, str], bool] | None = getattr(deck, "claim_once", None)
        if callable(claim):
            claim(VIEWER_KIND, f"{VIEWER_KIND}:{user}")

    def viewers(self, deck: Any) -> list[str]:
        keyed: Callable[[str], list[str]] | None = getattr(deck, "claimed_keys", None)
        if not callable(keyed):
            return sorted(self._last)
        return [k.split(":", 1)[1] for k in keyed(VIEWER_KIND)][-MAX_VIEWERS:]

    def publish(
        self, deck: Any, user: str, *, force: bool = False, data: HomeData | None = None
    ) -> bool:
        """Publish `user`'s dashboard; unless forced, only when it differs from the last one."""
        view = build_home(deck, user, self.pages.get(user, 0), data)
        digest = digest_of(view)
        with self._lock:
            if not force and self._last.get(user) == digest:
                return False
            self._last[user] = digest
        try:
            self.client.views_publish(user_id=user, view=view.to_dict())
        except (SlackApiError, SlackClientError) as exc:
            from modeldeck_slack.cards import slack_error

            with self._lock:
                self._last.pop(user, None)
            log.warning("views.publish for %s failed: %s", user, slack_error(exc))
            return False
        return True

    def on_event(self, event: Any, deck: Any) -> int:
        """Republish for every user who opened App Home whose dashboard changed; how many."""
        if event.name not in HOME_EVENTS:
            return 0
        viewers = self.viewers(deck)
        if not viewers:
            return 0
        data = home_data(deck)
        return sum(1 for user in viewers if self.publish(deck, user, data=data))


_publishers: weakref.WeakKeyDictionary[Any, HomePublisher] = weakref.WeakKeyDictionary()
_publishers_lock = threading.Lock()


def publisher_for(deck: Any) -> HomePublisher | None:
    """The App Home publisher of this deck (None when Slack is off or has no token to post)."""
    from modeldeck_slack.clients import notify_client

    settings = getattr(deck, "settings", None)
    if not isinstance(settings, Settings) or not settings.slack.enabled:
        return None
    with _publishers_lock:
        found = _publishers.get(deck)
        if found is None or found.settings is not settings:
            client = notify_client(settings, deck)
            if client is None:
                return None
            found = HomePublisher(settings, client)
            _publishers[deck] = found
        return found


def register_home(bot: Any) -> None:
    """App Home's own buttons: Refresh and the deployment pages."""

    async def on_page(ack: Callable[..., Any], body: dict[str, Any]) -> None:
        import asyncio

        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        action = (body.get("actions") or [{}])[0]
        try:
            page = int(str(action.get("value") or "0"))
        except ValueError:
            page = 0
        publisher = publisher_for(bot.deck)
        if publisher is None:
            return
        publisher.pages[user] = page
        await asyncio.to_thread(publisher.publish, bot.deck, user, force=True)

    bot.app.action(HOME_REFRESH_ACTION)(on_page)
    bot.app.action(HOME_PAGE_ACTION)(on_page)


async def open_home(bot: Any, event: dict[str, Any], client: Any) -> None:
    """`app_home_opened`: remember the viewer (for refreshes) and publish their dashboard."""
    import asyncio

    user = str(event.get("user") or "")
    if event.get("tab", "home") != "home" or not user:
        return
    publisher = publisher_for(bot.deck)
    page = publisher.pages.get(user, 0) if publisher else 0
    view = await asyncio.to_thread(build_home, bot.deck, user, page)
    try:
        await client.views_publish(user_id=user, view=view.to_dict())
    except (SlackApiError, SlackClientError) as exc:
        from modeldeck_slack.cards import slack_error

        log.warning("views.publish failed: %s", slack_error(exc))
        return
    if publisher is not None:
        with publisher._lock:
            publisher._last[user] = digest_of(view)
        await asyncio.to_thread(publisher.remember, bot.deck, user)
