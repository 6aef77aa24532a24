"""`/deck cost … forecast`, `budget`, `alerts`, `plan` and `schedules` in Block Kit over the
signed wire: no code-block walls, the deck's own figures in fields, 60 budgets and 60 alerts
paged with More, Share to channel on forecasts, budgets and plans.

Every message is checked against Slack's limits by `SlackSender` (acks) and the `fake_slack`
fixture (response_url posts and Web API calls).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from modeldeck.alerts.models import AlertCandidate
from modeldeck.grammar import PlanCommand, parse
from modeldeck.money import format_amount, round_cents
from modeldeck.schedules.text import next_change_text
from modeldeck.store.alerts import raise_due
from modeldeck.testing import Stack
from modeldeck.timeutil import utcnow
from modeldeck_slack.answer_actions import shareable
from modeldeck_slack.bot import WORKING
from modeldeck_slack.paging import MORE_ACTION, SHARE_ACTION, SHARED_BLOCK, More
from modeldeck_slack.spend_cards import BUDGET_STATUS, SEVERITY
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import ALICE, CHANNEL, MU_MODEL, PTU_MODEL, SlackUser
from tests.slack.test_slack_block_answers import ack, buttons, no_code_blocks, texts
from tests.slack.test_slack_charts import trace
from tests.slack.test_slack_costs import deployed
from tests.slack.ui_helpers import press


def fields_of(blocks: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for b in blocks for f in b.get("fields") or []]


def one_of(compute: Callable[[], str], shown: Callable[[], str]) -> tuple[set[str], str]:
    """The deck's figure computed just before and just after the answer (billing is per
    started minute, so a minute may turn between), and the answer."""
    before = compute()
    answer = shown()
    return {before, compute()}, answer


def pages(user: SlackUser, fake: FakeSlack, words: str) -> list[list[dict[str, Any]]]:
    """Every page of an answer: the ack, then each More click's replacement."""
    out = [ack(user, words)["blocks"]]
    for _ in range(20):
        more = [b for b in buttons(out[-1]) if b["action_id"] == MORE_ACTION]
        if not more:
            return out
        assert More.load(more[0]["value"]).command == words
        _, url = press(user, MORE_ACTION, more[0]["value"])
        post = fake.wait_for_response(url)
        assert post.body["replace_original"] is True
        out.append(post.body["blocks"])
    raise AssertionError("More never ended")


def shared_post(user: SlackUser, fake: FakeSlack, words: str) -> list[dict[str, Any]]:
    resp, _ = press(user, SHARE_ACTION, words)
    assert resp.status_code == 200
    post = fake.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.args["channel"] == CHANNEL
            and any(b.get("block_id") == SHARED_BLOCK for b in c.args.get("blocks") or [])
        ),
    )
    blocks: list[dict[str, Any]] = post.args["blocks"]
    assert blocks[-1]["elements"][0]["text"] == f"Shared by <@{ALICE}>"
    return blocks


# -- forecast ----------------------------------------------------------------------------------


def test_forecast_is_a_section_per_deployment_with_the_decks_figures_and_share(
    alice: SlackUser, bob: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    assert stack.deck is not None
    deck = stack.deck
    dep = deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    words = "cost all forecast"

    def figures() -> str:
        (f,) = deck.forecast(None, None).forecasts
        return json.dumps([str(round_cents(x)) for x in (f.to_date, f.reserved_to_come, f.total)])

    holder: dict[str, list[dict[str, Any]]] = {}

    def answer() -> str:
        holder["blocks"] = ack(alice, words)["blocks"]
        return ""

    expected, _ = one_of(figures, answer)
    blocks = holder["blocks"]
    no_code_blocks(blocks)
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "Forecast for this month"
    (section,) = [b for b in blocks if dep.id in b.get("text", {}).get("text", "")]
    shown = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in section["fields"]}
    seen = json.dumps(
        [
            shown["*Spent to date*"].removeprefix("$").replace(",", ""),
            shown["*Reserved to come*"].removeprefix("$").replace(",", ""),
            shown["*Forecast*"].strip("*").removeprefix("$").replace(",", ""),
        ]
    )
    assert seen in expected, (seen, expected)
    assert shown["*Overflow to come*"] == "$0.00"
    assert dollars(shown["*Forecast*"]) >= dollars(shown["*Spent to date*"])
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [(SHARE_ACTION, words)]
    assert any("running" in t for t in texts(blocks))
    shared = shared_post(alice, fake_slack, words)
    assert any(dep.id in t for t in texts(shared))


def dollars(text: str) -> Decimal:
    """`$1,234.56` (or `*$1,234.56*`) as the Decimal it shows."""
    return Decimal(text.strip("*").removeprefix("$").replace(",", ""))


def test_a_forecast_of_nothing_says_so_in_a_section(alice: SlackUser) -> None:
    blocks = ack(alice, "cost all forecast")["blocks"]
    no_code_blocks(blocks)
    assert texts(blocks) == ["Nothing to forecast for any deployment in this month."]


# -- budget ------------------------------------------------------------------------------------


def test_budget_is_a_section_per_budget_with_spent_forecast_and_thresholds(
    alice: SlackUser, bob: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    assert stack.deck is not None
    deck = stack.deck
    deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    said = alice.answer("budget set name=team amount=50 thresholds=1,80")
    assert ":white_check_mark: Budget team set: $50.00 per month for workspace" in said
    assert "```" not in said

    def figures() -> str:
        (line,) = deck.budgets().lines
        f = line.forecast
        return json.dumps(
            [
                f"{format_amount(f.to_date)} ({round_cents(f.spent_percent)}%)",
                f"{format_amount(f.total)} ({round_cents(f.forecast_percent)}%)",
                line.status,
            ]
        )

    holder: dict[str, list[dict[str, Any]]] = {}

    def answer() -> str:
        holder["blocks"] = ack(alice, "budget")["blocks"]
        return ""

    expected, _ = one_of(figures, answer)
    blocks = holder["blocks"]
    no_code_blocks(blocks)
    assert blocks[0]["text"]["text"] == "Budgets (1)"
    (section,) = [b for b in blocks if b["type"] == "section"]
    head = section["text"]["text"]
    assert head.startswith("*team* · workspace · per month · ")
    shown = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in section["fields"]}
    assert shown["*Budget*"] == "$50.00"
    status = next(s for s, label in BUDGET_STATUS.items() if head.endswith(label))
    assert json.dumps([shown["*Spent*"], shown["*Forecast*"], status]) in expected
    assert status == "forecast overrun"  # $40/h for the rest of the month is far over $50
    assert shown["*Thresholds*"].splitlines() == [
        "1% ($0.50) :white_check_mark: reached",
        "80% ($40.00)",
    ]
    assert "1 deployment(s) · soft" in shown["*Covers*"]
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [(SHARE_ACTION, "budget")]
    shared = shared_post(alice, fake_slack, "budget")
    assert any(t.startswith("*team* · workspace") for t in texts(shared))


def test_sixty_budgets_page_through_every_one(
    alice: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    assert stack.deck is not None
    ops = stack.deck.resolve_actor("cli", "ops")
    names = [f"b{i:02d}" for i in range(60)]
    for i, name in enumerate(names):
        stack.deck.set_budget({"name": name, "amount_usd": 100 + i}, ops)
    seen: list[str] = []
    all_pages = pages(alice, fake_slack, "budget")
    for page in all_pages:
        no_code_blocks(page)
        assert len(page) <= 50
        sections = [b for b in page if b["type"] == "section" and b.get("fields")]
        seen += [s["text"]["text"].split("*")[1] for s in sections]
        amounts = {s["text"]["text"].split("*")[1]: s["fields"][0]["text"] for s in sections}
        for name, amount in amounts.items():
            assert amount == f"*Budget*\n${100 + int(name[1:])}.00"
    assert sorted(seen) == names and len(seen) == 60
    assert len(all_pages) == 5  # 12 a page
    assert "Showing 1–12 of 60 budgets." in json.dumps(all_pages[0], ensure_ascii=False)


# -- alerts ------------------------------------------------------------------------------------


def add_alerts(stack: Stack, n: int) -> list[AlertCandidate]:
    """`n` raised alerts of this month in the store, as the rules would have claimed them."""
    assert stack.deck is not None
    now = utcnow()
    severities = ("info", "warning", "critical")
    made = [
        AlertCandidate(
            kind="overflow_spend",
            scope=f"dep_{i:03d}",
            period="2026-12",
            severity=severities[i % 3],
            title=f"Overflow spend on dep_{i:03d}",
            text=f"dep_{i:03d} spent ${i}.00 on overflow today <!channel>",
            at=now - timedelta(minutes=n - i),
        )
        for i in range(n)
    ]
    with stack.deck.store.session() as session:
        raise_due(session, made, now=now)
    return made


def test_alerts_are_a_section_each_with_a_severity_emoji_and_sixty_page(
    alice: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    made = add_alerts(stack, 60)
    all_pages = pages(alice, fake_slack, "alerts")
    assert len(all_pages) == 4  # 15 a page
    seen: dict[str, str] = {}
    for page in all_pages:
        no_code_blocks(page)
        assert page[0]["text"]["text"] == "Alerts (60)"
        for block in page:
            text = block.get("text", {}).get("text", "")
            if block["type"] == "section" and "Overflow spend on" in text:
                seen[text.split("*")[1]] = text
    assert len(seen) == 60
    for alert in made:
        text = seen[alert.title]
        assert text.startswith(SEVERITY[alert.severity] + " *")
        assert alert.text.replace("<", "&lt;").replace(">", "&gt;") in text  # no @channel
        assert f"_{alert.severity} · overflow_spend · {alert.scope} · raised " in text
    assert not [b for page in all_pages for b in buttons(page) if b["action_id"] == SHARE_ACTION]


def test_no_alerts_is_one_section(alice: SlackUser) -> None:
    blocks = ack(alice, "alerts")["blocks"]
    no_code_blocks(blocks)
    assert texts(blocks)[0].endswith("No alerts this month.")


# -- plan --------------------------------------------------------------------------------------


def test_plan_options_are_fields_with_the_recommendation_reasoning_and_share(
    alice: SlackUser, stack: Stack, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    assert stack.deck is not None
    words = f"plan {PTU_MODEL} trace={trace(tmp_path / 'usage.csv')}"
    command = parse(words)
    assert isinstance(command, PlanCommand)
    plan = stack.deck.plan(command.spec)
    blocks = ack(alice, words)["blocks"]
    no_code_blocks(blocks)
    assert blocks[0]["text"]["text"].startswith(f"Plan: {PTU_MODEL} (instruct")
    priced = [o for o in plan.options if o.available]
    assert priced
    for opt in priced:
        (section,) = [
            b
            for b in blocks
            if b["type"] == "section" and f"*{opt.rank}. {opt.option}* · " in b["text"]["text"]
        ]
        shown = {
            f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in section["fields"]
        }
        assert opt.total is not None and opt.reserved is not None and opt.overflow is not None
        assert shown["*Total for the trace*"] == f"*{format_amount(opt.total)}*"
        assert shown["*Reserved*"] == format_amount(opt.reserved)
        assert shown["*Overflow*"] == format_amount(opt.overflow)
        assert opt.effective_per_million is not None
        per_million = format_amount(opt.effective_per_million, exact=True)
        assert shown["*Effective price*"] == f"{per_million} per million tokens"
        assert opt.total == opt.reserved + opt.overflow
    assert plan.recommended is not None
    best = plan.option(plan.recommended)
    (pick,) = [b for b in blocks if b.get("block_id") == "modeldeck_plan_pick"]
    assert pick["text"]["text"].startswith(f":star: *Recommended: {plan.recommended}* · ")
    assert (
        best.total is not None
        and f"{format_amount(best.total)} for the trace" in (pick["text"]["text"])
    )
    assert best.reasoning and all(f"• {why}" in pick["text"]["text"] for why in best.reasoning)
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [(SHARE_ACTION, words)]
    shared = shared_post(alice, fake_slack, words)
    assert any(t.startswith(f":star: *Recommended: {plan.recommended}*") for t in texts(shared))


def test_plan_apply_shows_the_request_it_made_and_no_share(
    alice: SlackUser, stack: Stack, tmp_path: Path
) -> None:
    assert stack.deck is not None
    words = f"plan {PTU_MODEL} trace={trace(tmp_path / 'usage.csv')} apply option=hourly"
    resp, url = alice.command(words)
    assert resp.json()["text"].startswith(WORKING)  # a request: stored after the ack
    blocks = alice.fake.wait_for_response(url).body["blocks"]
    no_code_blocks(blocks)
    (request,) = stack.deck.list_requests("pending")
    assert f"*Request*\n`{request.id}` · {request.summary}" in fields_of(blocks)
    assert SHARE_ACTION not in [b["action_id"] for b in buttons(blocks)]


def test_only_read_only_answers_can_be_shared(alice: SlackUser, fake_slack: FakeSlack) -> None:
    assert shareable("cost all forecast") and shareable("budget") and shareable("plan x trace=a")
    assert not shareable("budget set name=team amount=10")
    assert not shareable("plan x trace=a apply") and not shareable("alerts")
    press(alice, SHARE_ACTION, "budget set name=team amount=10")
    refusal = fake_slack.wait_for_call("chat.postEphemeral")
    assert "not `budget set` or `plan … apply`" in refusal.args["text"]
    assert fake_slack.calls("chat.postMessage", ok=True) == []


# -- schedules ---------------------------------------------------------------------------------


def test_schedules_are_a_section_each_with_the_next_change(
    alice: SlackUser, bob: SlackUser, stack: Stack
) -> None:
    assert stack.deck is not None
    deck = stack.deck
    blocks = ack(alice, "schedules")["blocks"]
    no_code_blocks(blocks)
    assert texts(blocks)[0].startswith("No schedules.")
    dep = deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    alice.answer(f'schedule {dep.id} units=2 at="weekdays 09:00" units=1 at="weekdays 19:00"')
    (request,) = deck.list_requests("pending")
    assert "approved" in bob.answer(f"approve {request.id}")
    (view,) = deck.schedules()
    assert view.next_change is not None
    blocks = ack(alice, "schedules")["blocks"]
    no_code_blocks(blocks)
    assert blocks[0]["text"]["text"] == "1 schedule(s) (1 active)"
    (section,) = [b for b in blocks if b["type"] == "section"]
    assert f"`{view.id}`" in section["text"]["text"] and view.summary in section["text"]["text"]
    assert f"*Next change*\n{next_change_text(view.next_change)}" in fields_of(blocks)
    assert f"*Approved as*\n`{request.id}`" in fields_of(blocks)


# -- the cards alone: rounding and limits ------------------------------------------------------


def test_forecast_totals_are_rounded_once_from_the_exact_sums() -> None:
    from modeldeck.billing.forecast import Forecast
    from modeldeck.workflow.spend import ForecastReport
    from modeldeck_slack.spend_cards import forecast_card

    now = utcnow()
    start, end = now - timedelta(days=1), now + timedelta(days=1)

    def one(dep: str) -> Forecast:
        return Forecast(
            deployment_id=dep,
            model=MU_MODEL,
            plan="mu",
            billing="hourly",
            period_start=start,
            period_end=end,
            now=now,
            state="running",
            to_date=Decimal("0.004"),
            reserved_to_come=Decimal("10.004"),
            overflow_to_come=Decimal("0"),
            overflow_window_hours=Decimal(24),
            overflow_in_window=Decimal(0),
        )

    report = ForecastReport(
        period_start=start, period_end=end, now=now, forecasts=[one("a"), one("b")]
    )
    blocks = forecast_card(report, "cost all forecast").block_dicts()
    totals = fields_of(blocks[1:2])
    assert totals == [
        "*Spent to date*\n$0.01",  # 0.008, not 0.00 + 0.00
        "*Reserved to come*\n$20.01",  # 20.008
        "*Overflow to come*\n$0.00",
        "*Forecast for the period*\n*$20.02*",  # 20.016
    ]
    assert "*Forecast*\n*$10.01*" in fields_of(blocks)  # each: 10.008


def test_long_alerts_stay_within_limits_on_every_page() -> None:
    from modeldeck.alerts.models import RaisedAlert
    from modeldeck.workflow.spend import AlertsReport
    from modeldeck_slack.limits import block_problems
    from modeldeck_slack.spend_cards import alerts_card

    now = utcnow()
    alerts = [
        RaisedAlert(
            id=i,
            kind="overflow_share",
            scope="s" * 240,
            period="p",
            severity="critical",
            title="t" * 300,
            text="x" * 5000,
            at=now,
            raised_at=now,
        )
        for i in range(45)
    ]
    report = AlertsReport(now=now, since=now, new=alerts[:3], alerts=alerts)
    start, shown = 0, 0
    while True:
        blocks = alerts_card(report, "alerts", start).block_dicts()
        assert not block_problems(blocks, 50), block_problems(blocks, 50)
        shown += sum(1 for b in blocks if b["type"] == "section")
        more = [b for b in buttons(blocks) if b["action_id"] == MORE_ACTION]
        if not more:
            break
        start = More.load(more[0]["value"]).start
    assert shown == 45
