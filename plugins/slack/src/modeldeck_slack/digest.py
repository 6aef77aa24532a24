"""The weekly digest: last week's spend and overflow, this month's forecast, upfront orders
expiring in the next 7 days and idle reserved deployments, posted to `[slack.digest] channel`
on `weekday` at `time` (Beijing), with the spend chart uploaded in the post's thread.

Exactly once a week across replicas: each replica's loop checks every minute and the week's
slot (`slack_digest:<YYYY-MM-DD HH:MM>` Beijing) is claimed in the store before posting; a post
that fails releases its claim so the next check (here or on a replica) tries again. A slot
more than `late_hours` old (the server was down) is skipped, not posted days late.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.settings import WEEKDAYS, Settings, SlackDigestSettings
from modeldeck.timeutil import BEIJING, to_beijing, utcnow
from modeldeck_slack.blocks import clip, escape, money

log = logging.getLogger(__name__)

CLAIM_KIND = "slack_digest"
CHECK_EVERY_SECONDS = 60.0


def last_slot(now: datetime, digest: SlackDigestSettings) -> datetime:
    """The most recent `weekday` `time` (Beijing) at or before `now`."""
    local = to_beijing(now)
    hour, minute = (int(p) for p in digest.time.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - WEEKDAYS.index(digest.weekday)) % 7)
    slot = datetime.combine(day, time(hour, minute), tzinfo=BEIJING)
    if slot > local:
        slot -= timedelta(days=7)
    return slot


def due_slot(now: datetime, digest: SlackDigestSettings) -> datetime | None:
    """This week's slot when it has come and is not older than `late_hours`."""
    slot = last_slot(now, digest)
    return slot if now - slot < timedelta(hours=digest.late_hours) else None


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)))


def _when(at: datetime) -> str:
    return f"{to_beijing(at):%a %Y-%m-%d %H:%M} (UTC+8)"


def digest_blocks(d: Any) -> list[Any]:
    """The digest as Block Kit (well under 50 blocks: lists are capped and counted)."""
    cur = d.currency
    over = f" · overflow (pay-as-you-go) {money(d.week_overflow, cur)}" if d.week_overflow else ""
    unpriced = (
        f"\n:warning: {d.unpriced_lines} line(s) without a listed price are not in the total."
        if d.unpriced_lines
        else ""
    )
    blocks: list[Any] = [
        HeaderBlock(text=PlainTextObject(text="modeldeck weekly digest")),
        ContextBlock(elements=[MarkdownTextObject(text=f"{_when(d.since)} → {_when(d.now)}")]),
        _section(
            f"*Spend, last 7 days:* {money(d.week_total, cur)}{over}{unpriced}\n"
            f"*This month:* {money(d.month_to_date, cur)} so far · "
            f"{money(d.month_forecast, cur)} forecast to the month's end"
        ),
    ]
    if d.top:
        lines = [
            f"• *{escape(s.name)}* {money(s.total, cur)}"
            + (f" (overflow {money(s.overflow, cur)})" if s.overflow else "")
            for s in d.top
        ]
        blocks.append(_section("*Top spend*\n" + "\n".join(lines)))
    blocks.append(DividerBlock())
    if d.expiring:
        lines = [
            f"• *{escape(e.name)}*: order `{escape(e.order_id)}` expires {_when(e.expires_at)}, "
            f"stops {_when(e.stops_at)} unless renewed"
            for e in d.expiring[:10]
        ]
        blocks.append(_section("*Upfront orders expiring this week*\n" + "\n".join(lines)))
    else:
        blocks.append(_section("*Upfront orders expiring this week:* none"))
    if d.idle:
        lines = [
            f"• *{escape(i.name)}*: no calls for {i.idle_hours} h while capacity is reserved"
            for i in d.idle[:10]
        ]
        more = f"\n…and {len(d.idle) - 10} more" if len(d.idle) > 10 else ""
        blocks.append(_section("*Idle deployments*\n" + "\n".join(lines) + more))
    else:
        blocks.append(_section("*Idle deployments:* none"))
    return blocks


class DigestPoster:
    """Posts the weekly digest once per slot (sync Web API client, in a worker thread)."""

    def __init__(self, settings: Settings, client: Any) -> None:
        assert settings.slack.digest is not None
        self.settings = settings
        self.digest = settings.slack.digest
        self.client = client

    def run_due(self, deck: Any, now: datetime | None = None) -> bool:
        """Post this week's digest if its slot is due and this process claims it first."""
        at = now or utcnow()
        slot = due_slot(at, self.digest)
        if slot is None:
            return False
        key = f"{CLAIM_KIND}:{slot:%Y-%m-%d %H:%M}"
        if not deck.claim_once(CLAIM_KIND, key):
            return False
        try:
            self.post(deck, at)
        except Exception as exc:
            deck.release_claim(key)  # not posted: the next check may try again
            from modeldeck_slack.cards import slack_error

            log.warning("the weekly digest was not posted: %s", slack_error(exc))
            return False
        return True

    def post(self, deck: Any, now: datetime) -> str:
        """Post the digest (and its spend chart in the thread); the message ts."""
        data = deck.weekly_digest(now)
        blocks = [b.to_dict() for b in digest_blocks(data)]
        text = f"modeldeck weekly digest: {money(data.week_total, data.currency)} last 7 days"
        resp = self.client.chat_postMessage(
            channel=self.digest.channel, text=text, blocks=blocks, unfurl_links=False
        )
        channel, ts = str(resp["channel"]), str(resp["ts"])
        if self.digest.chart:
            self.upload_chart(data, channel, ts)
        return ts

    def upload_chart(self, data: Any, channel: str, ts: str) -> None:
        """The month's spend chart, in the digest's thread (a failure leaves the post as is)."""
        from modeldeck.charts import render
        from modeldeck_slack.charts_post import spend_chart_of
        from modeldeck_slack.uploads import upload_png

        title = "Spend this month (all deployments)"
        try:
            png = render(spend_chart_of(data.forecast, title), "png")
            upload_png(
                self.client,
                png,
                filename="modeldeck-digest-spend.png",
                title=title,
                channel=channel,
                thread_ts=ts,
                alt_text=title,
            )
        except (SlackApiError, SlackClientError, OSError, ValueError) as exc:
            log.warning("the digest's chart was not uploaded: %s", type(exc).__name__)


def poster_for(deck: Any, settings: Settings) -> DigestPoster | None:
    from modeldeck_slack.clients import notify_client

    if settings.slack.digest is None:
        return None
    client = notify_client(settings, deck)
    return None if client is None else DigestPoster(settings, client)


async def digest_loop(deck: Any, settings: Settings, every: float = CHECK_EVERY_SECONDS) -> None:
    """Check every minute whether this week's digest is due (started by the `startup` hook)."""
    while True:
        try:
            poster = await asyncio.to_thread(poster_for, deck, settings)
            if poster is not None:
                await asyncio.to_thread(poster.run_due, deck)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the weekly digest check failed")
        await asyncio.sleep(every)
