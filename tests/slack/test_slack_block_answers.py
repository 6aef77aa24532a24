"""Every `/deck` answer in Block Kit within Slack's limits, over the signed wire: help, models,
list (100 deployments, paged with More), status, estimate; Share to channel; the limits check.

The limits themselves are checked on every message by `SlackSender` (acks) and the
`fake_slack` fixture (everything else): these tests add what each answer must look like.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from modeldeck.grammar import all_verbs
from modeldeck.grammar.help import SYNTAX_TOPICS
from modeldeck.store.models import DeploymentRow
from modeldeck.testing import Stack
from modeldeck_slack.deployment_cards import list_card
from modeldeck_slack.limits import block_problems, message_problems
from modeldeck_slack.modals import (
    DEPLOYMENT_MENU_ACTION,
    OPEN_SCALE_ACTION,
    OPEN_UNPUBLISH_ACTION,
)
from modeldeck_slack.paging import MORE_ACTION, SHARE_ACTION, More
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import ALICE, CHANNEL, MU_MODEL, PTU_MODEL, SlackUser
from tests.slack.ui_helpers import press

T0 = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


def ack(user: SlackUser, text: str) -> dict[str, Any]:
    """The answer's body: in the ack, or (when it took longer than the ack budget, as on a
    loaded machine) the one the bot posts to the response_url after its "Working on it…" ack."""
    resp, url = user.command(text)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    if str(body.get("text") or "").startswith("Working on it"):
        body = user.fake.wait_for_response(url).body
    assert body["response_type"] == "ephemeral" and body.get("blocks"), body
    return body


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(str(text.get("text", "")))
        out += [str(f.get("text", "")) for f in block.get("fields") or []]
        out += [str(e.get("text", "")) for e in block.get("elements") or [] if "text" in e]
    return out


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [el for b in blocks if b["type"] == "actions" for el in b["elements"]]


def no_code_blocks(blocks: list[dict[str, Any]]) -> None:
    assert "```" not in json.dumps(blocks), "a code-block wall"


def add_deployments(stack: Stack, n: int) -> list[str]:
    """`n` deployments in the deck's store (names dep-000 …), as a long-running team has."""
    assert stack.deck is not None
    rows: list[dict[str, Any]] = [
        {
            "id": f"dep_{i:04d}",
            "deployed_model": f"{MU_MODEL}-d{i:03d}",
            "model": MU_MODEL,
            "plan": "mu",
            "mode": "instruct",
            "billing": "hourly",
            "status": "RUNNING" if i % 7 else "DELETED",
            "units": 1 + i % 3,
            "imported": False,
            "provider_data": {},
            "created_at": T0 + timedelta(minutes=i),
            "updated_at": T0 + timedelta(minutes=i),
        }
        for i in range(n)
    ]
    with stack.deck.store.session() as session:
        session.execute(insert(DeploymentRow), rows)
    return [str(r["deployed_model"]) for r in rows]


# -- help --------------------------------------------------------------------------------------


def test_help_is_a_section_per_verb_group_with_short_lines(alice: SlackUser) -> None:
    body = ack(alice, "help")
    blocks = body["blocks"]
    no_code_blocks(blocks)
    shown = "\n".join(texts(blocks))
    for group in (
        "*Prices and plans*",
        "*Ask for a change*",
        "*Decide*",
        "*Deployments and spend*",
    ):
        assert group in shown
    for verb in all_verbs():
        assert f"`{verb}`" in shown or verb == "help"
    lines = [line for t in texts(blocks) for line in t.splitlines()]
    assert max(len(line) for line in lines) <= 120
    assert "`/deck help <command>`: its options" in shown
    assert [b["action_id"] for b in buttons(blocks)] == ["modeldeck_open_deploy"]


@pytest.mark.parametrize("topic", [*all_verbs(), *SYNTAX_TOPICS])
def test_help_on_each_topic_is_block_kit(alice: SlackUser, topic: str) -> None:
    blocks = ack(alice, f"help {topic}")["blocks"]
    no_code_blocks(blocks)
    assert blocks[0]["type"] == "header"
    if topic in all_verbs():
        shown = "\n".join(texts(blocks))
        assert all_verbs()[topic].usage.split()[0] in shown
        assert "*Examples*" in shown
        for block in blocks:
            assert len(block.get("fields") or []) <= 10


# -- models ------------------------------------------------------------------------------------


def test_models_are_a_section_per_model_paged_with_more(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    assert stack.deck is not None
    catalog = {str(r["model"]) for r in stack.deck.models()}
    body = ack(alice, "models")
    no_code_blocks(body["blocks"])
    seen: set[str] = set()
    page = body["blocks"]
    for _ in range(10):
        heads = [b["text"]["text"] for b in page if b["type"] == "section" and b.get("fields")]
        seen |= {h.strip("*").removesuffix("* (continued)") for h in heads}
        assert any("$" in f["text"] for b in page for f in b.get("fields") or [])
        more = [b for b in buttons(page) if b["action_id"] == MORE_ACTION]
        if not more:
            break
        assert More.load(more[0]["value"]).command == "models"
        _, url = press(alice, MORE_ACTION, more[0]["value"])
        post = fake_slack.wait_for_response(url)
        assert post.body["replace_original"] is True
        page = post.body["blocks"]
    assert seen == catalog


# -- list --------------------------------------------------------------------------------------


def test_a_list_of_100_deployments_pages_through_every_one(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    names = add_deployments(stack, 100)
    live = {n for i, n in enumerate(names) if i % 7}
    body = ack(alice, "list")
    page = body["blocks"]
    assert page[0]["type"] == "header" and "live" in page[0]["text"]["text"]
    listed: list[str] = []
    for _ in range(20):
        no_code_blocks(page)
        sections = [b for b in page if b["type"] == "section" and b.get("fields")]
        assert 0 < len(sections) <= 15
        for section in sections:
            name = section["text"]["text"].split("*")[1]
            listed.append(name)
            fields = "\n".join(f["text"] for f in section["fields"])
            assert "*Capacity*" in fields and "*Plan*" in fields
            menu = section.get("accessory")
            if name in live:
                assert menu["action_id"] == DEPLOYMENT_MENU_ACTION
                verbs = [o["value"].split(":")[0] for o in menu["options"]]
                assert verbs == ["scale", "unpublish"]
            else:
                assert menu is None
        more = [b for b in buttons(page) if b["action_id"] == MORE_ACTION]
        if not more:
            break
        _, url = press(alice, MORE_ACTION, more[0]["value"])
        page = fake_slack.wait_for_response(url).body["blocks"]
        assert not message_problems({"text": "x", "blocks": page})
    assert sorted(listed) == sorted(names)  # DELETED rows without a deleted_at are listed
    assert len(listed) == len(set(listed))


def test_list_all_includes_the_deleted_ones(alice: SlackUser, stack: Stack) -> None:
    add_deployments(stack, 20)
    page = ack(alice, "list all")["blocks"]
    assert page[0]["text"]["text"].startswith("20 all deployments")
    assert "Showing 1–15 of 20 deployments." in json.dumps(page, ensure_ascii=False)


def test_an_empty_list_offers_the_deploy_form(alice: SlackUser) -> None:
    blocks = ack(alice, "list")["blocks"]
    assert "No deployments yet" in blocks[0]["text"]["text"]
    assert [b["action_id"] for b in buttons(blocks)] == ["modeldeck_open_deploy"]


def test_a_100_deployment_list_card_is_within_limits_on_every_page() -> None:
    from modeldeck.domain import DeploymentRecord

    deps = [
        DeploymentRecord(
            id=f"dep_{i}",
            deployed_model=f"m-{i}-" + "x" * 180,
            model="qwen3-32b",
            plan="ptu" if i % 2 else "mu",
            billing="upfront" if i % 4 == 1 else "hourly",
            status="RUNNING",
            units=1,
            input_tpm=20000,
            output_tpm=2000,
            created_at=T0,
            updated_at=T0,
        )
        for i in range(100)
    ]
    start, pages, shown = 0, 0, 0
    while True:
        card = list_card(deps, "list", start)
        blocks = card.block_dicts()
        assert not block_problems(blocks, 50), block_problems(blocks, 50)
        shown += sum(1 for b in blocks if b["type"] == "section" and b.get("fields"))
        pages += 1
        more = [b for b in buttons(blocks) if b["action_id"] == MORE_ACTION]
        if not more:
            break
        start = More.load(more[0]["value"]).start
    assert shown == 100 and pages == 7


# -- status and estimate -----------------------------------------------------------------------


def test_status_is_fields_and_the_change_buttons(alice: SlackUser, stack: Stack) -> None:
    names = add_deployments(stack, 2)
    blocks = ack(alice, f"status {names[1]}")["blocks"]
    no_code_blocks(blocks)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": names[1]}}
    fields = "\n".join(f["text"] for f in blocks[1]["fields"])
    for label in ("*Status*", "*Model*", "*Plan*", "*Capacity*", "*Cost so far*", "*Created*"):
        assert label in fields
    assert "$" in fields
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [
        (OPEN_SCALE_ACTION, "dep_0001"),
        (OPEN_UNPUBLISH_ACTION, "dep_0001"),
    ]


def test_estimate_is_fields_with_a_share_button(alice: SlackUser) -> None:
    words = f"estimate {MU_MODEL} mu units=1 hours=3"
    body = ack(alice, words)
    blocks = body["blocks"]
    no_code_blocks(blocks)
    fields = [f["text"] for b in blocks for f in b.get("fields") or []]
    assert "*Total for 3 hours*\n$120.00" in fields and "*Per hour*\n$40.00" in fields
    assert [(b["action_id"], b["value"]) for b in buttons(blocks)] == [(SHARE_ACTION, words)]


# -- share -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        f"estimate {MU_MODEL} mu units=1 hours=3",
        f"compare {PTU_MODEL} ptu in=20k out=2k hours_per_day=14 days=30",
        "cost period=today",
    ],
)
def test_share_posts_the_same_answer_in_the_channel_attributed(
    alice: SlackUser, fake_slack: FakeSlack, words: str
) -> None:
    private = ack(alice, words)["blocks"]
    assert [b["action_id"] for b in buttons(private)] == [SHARE_ACTION]
    resp, _ = press(alice, SHARE_ACTION, words)
    assert resp.status_code == 200
    post = fake_slack.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == CHANNEL)
    shared = post.args["blocks"]
    assert shared[-1]["type"] == "context"
    assert shared[-1]["elements"][0]["text"] == f"Shared by <@{ALICE}>"
    assert shared[:-1] == [b for b in private if b["type"] != "actions"]
    assert SHARE_ACTION not in [b.get("action_id") for b in buttons(shared)]


def test_share_is_only_for_read_only_answers_and_says_why_it_failed(
    alice: SlackUser, fake_slack: FakeSlack
) -> None:
    press(alice, SHARE_ACTION, "list")
    refusal = fake_slack.wait_for_call("chat.postEphemeral")
    shown = refusal.args["text"]
    assert "Only estimates, comparisons, costs, forecasts, budgets and plans can be shared" in shown
    press(alice, SHARE_ACTION, f"estimate {MU_MODEL} mu units=1", channel="C0OTHER")
    told = fake_slack.wait_for_call("chat.postEphemeral", lambda c: c.args["channel"] == "C0OTHER")
    assert "not_in_channel" in told.args["text"] and "invite the bot" in told.args["text"]
    assert fake_slack.calls("chat.postMessage", ok=True) == []


# -- the limits check can fail ----------------------------------------------------------------


def section(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **more}


def field(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x")] * 51, "51 blocks (at most 50)"),
        ([section("x" * 3001)], "text of 3001 characters"),
        ([section("x", fields=[field("f")] * 11)], "11 fields (at most 10)"),
        ([section("x", fields=[field("f" * 2001)])], "field 0 of 2001 characters"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "header text"),
        ([section("a", block_id="b"), section("c", block_id="b")], "used twice"),
        (
            [{"type": "actions", "elements": [{"type": "button", "text": {"text": "b" * 76}}]}],
            "button text",
        ),
    ],
)
def test_the_limits_check_finds_each_breach(blocks: list[dict[str, Any]], problem: str) -> None:
    found = message_problems({"text": "t", "blocks": blocks})
    assert any(problem in p for p in found), found
    assert message_problems({"text": "t", "blocks": [section("x")] * 50}) == []


def test_every_example_of_every_verb_answers_within_slacks_limits(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """Each answer (ack or response_url) is checked by the one limits check on its way in."""
    add_deployments(stack, 60)
    examples = [e for info in all_verbs().values() for e in info.examples]
    examples += ["list", "list all", "models", "status dep_0001", "cost all", "approvals"]
    for words in examples:
        shown = alice.answer(words)
        assert shown and "Traceback" not in shown, words
    assert fake_slack.responses()  # the changes answered through response_url, checked too


def test_list_and_status_show_the_next_scheduled_change() -> None:
    from modeldeck.domain import DeploymentRecord
    from modeldeck.schedules.views import ScheduledChange, ScheduleView
    from modeldeck_slack.deployment_cards import status_card

    dep = DeploymentRecord(
        id="dep_1",
        deployed_model="m-1",
        model=PTU_MODEL,
        plan="ptu",
        status="RUNNING",
        input_tpm=20000,
        output_tpm=2000,
        created_at=T0,
        updated_at=T0,
    )
    change = ScheduledChange(
        schedule_id="sch_1",
        deployment_id="dep_1",
        at=T0 + timedelta(days=1),
        level="40,000 in / 4,000 out TPM",
        label="mon-fri 09:00",
    )
    listed = json.dumps(list_card([dep], "list", next_changes={"dep_1": change}).block_dicts())
    assert (
        "*Next change*" in listed and "40,000 in / 4,000 out TPM (mon-fri 09:00, sch_1)" in listed
    )
    view = ScheduleView(
        id="sch_1",
        request_id="req_1",
        deployment_id="dep_1",
        deployment="m-1",
        kind="schedule",
        state="paused",
        summary="mon-fri 09:00 40k/4k, 18:00 20k/2k",
        paused_reason="m-1 was scaled by hand",
        activated_at=T0,
        next_change=change,
    )
    from decimal import Decimal

    shown = json.dumps(status_card(dep, Decimal("1.5"), "USD", schedule=view).block_dicts())
    assert "*Schedule* `sch_1` (paused)" in shown and "Paused: m-1 was scaled by hand" in shown
    assert "Next change: " in shown
