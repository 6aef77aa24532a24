"""Modals over the signed wire: views.open with a live trigger, view_submission answered with
`response_action: errors` for bad fields (never a 404), and the outcome reaching people."""

from __future__ import annotations

import json

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack.blocks import REJECT_ACTION
from modeldeck_slack.modals import REJECT_MODAL
from tests.slack.fake_slack import FakeSlack, dm_channel
from tests.slack.slack_env import ALICE, BOB, CHANNEL, MU_MODEL, SlackUser


def _card(fake: FakeSlack) -> tuple[str, str]:
    post = fake.wait_for_call(
        "chat.postMessage",
        lambda c: c.args.get("channel") == CHANNEL and not c.args.get("thread_ts"),
    )
    buttons = [el for b in post.args["blocks"] if b["type"] == "actions" for el in b["elements"]]
    return str(buttons[0]["value"]), str(post.response["ts"])


def reason_values(text: str) -> dict[str, dict[str, dict[str, str]]]:
    return {"reason": {"reason": {"type": "plain_text_input", "value": text}}}


def test_reject_opens_a_modal_and_its_reason_reaches_the_requester(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    alice.answer(f"deploy {MU_MODEL} mu units=1")
    request_id, ts = _card(fake_slack)
    assert bob.click(REJECT_ACTION, request_id, CHANNEL, ts).status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(REJECT_MODAL)
    assert request_id in json.dumps(view["blocks"])
    assert stack.deck is not None
    assert stack.deck.get_request(request_id).status == RequestStatus.PENDING  # not yet
    blank = bob.submit(view, reason_values("   "))
    assert blank.status_code == 200
    assert blank.json()["response_action"] == "errors"
    assert "reason" in blank.json()["errors"]
    assert stack.deck.get_request(request_id).status == RequestStatus.PENDING
    done = bob.submit(view, reason_values("budget is frozen until March"))
    assert done.status_code == 200 and not done.content.strip(b"{} ")  # the modal closes
    fake_slack.wait_for(
        lambda f: (
            stack.deck is not None
            and stack.deck.get_request(request_id).status == RequestStatus.REJECTED
        ),
        what="the rejection",
    )
    decision = stack.deck.get_request(request_id).decisions[-1]
    assert decision.reason == "budget is frozen until March"
    fake_slack.wait_for(
        lambda f: any("budget is frozen" in m.text for m in f.dm_messages(ALICE)),
        what="alice's DM with the reason",
    )
    card = json.dumps(fake_slack.message(CHANNEL, ts).blocks)
    assert "budget is frozen" in card
    assert all(b["type"] != "actions" for b in fake_slack.message(CHANNEL, ts).blocks)
    assert dm_channel(BOB) not in fake_slack.dms


def deploy_values(
    model: str | None = MU_MODEL,
    plan: str | None = "mu",
    capacity: str = "1",
    duration: str = "",
    billing: str = "hourly",
    reason: str = "launch week",
) -> dict[str, dict[str, dict[str, object]]]:
    def select(value: str | None) -> dict[str, object]:
        option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
        return {"type": "static_select", "selected_option": option}

    def text(value: str) -> dict[str, object]:
        return {"type": "plain_text_input", "value": value or None}

    return {
        "model": {"model": select(model)},
        "plan": {"plan": select(plan)},
        "mode": {"mode": select(None)},
        "billing": {"billing": select(billing)},
        "capacity": {"capacity": text(capacity)},
        "duration": {"duration": text(duration)},
        "reason": {"reason": text(reason)},
    }


def test_deploy_with_no_arguments_opens_the_deploy_modal(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    from modeldeck_slack.modals import DEPLOY_MODAL

    resp, _ = alice.command("deploy")
    assert resp.status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(DEPLOY_MODAL)
    shown = json.dumps(view["blocks"])
    assert MU_MODEL in shown  # the model list comes from the catalog
    for block in ("model", "plan", "mode", "billing", "capacity", "duration", "reason"):
        assert f'"block_id": "{block}"' in shown
    # choosing a model and plan updates the estimate in place (views.update)
    values = deploy_values()
    action = {"type": "static_select", "action_id": "plan", "block_id": "plan"}
    assert (
        alice.change(view, {**action, "selected_option": {"value": "mu"}}, values).status_code
        == 200
    )
    update = fake_slack.wait_for_call("views.update")
    assert update.args["view_id"] == view["id"]
    assert "$960.00 per day" in json.dumps(update.args["view"])
    view = fake_slack.opened_view(DEPLOY_MODAL)
    # a bad capacity comes back as a field error, nothing is requested
    bad = alice.submit(view, deploy_values(capacity="lots"))
    assert bad.status_code == 200
    assert bad.json()["response_action"] == "errors" and "capacity" in bad.json()["errors"]
    assert stack.deck is not None and stack.deck.list_requests("pending") == []
    ok = alice.submit(view, deploy_values(duration="10h"))
    assert ok.status_code == 200 and not ok.content.strip(b"{} ")
    post = fake_slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.args.get("channel") == CHANNEL and not c.args.get("thread_ts"),
    )
    assert "launch week" in json.dumps(post.args["blocks"])
    [pending] = stack.deck.list_requests("pending")
    assert pending.deploy is not None and pending.deploy.units == 1
    told = fake_slack.wait_for(
        lambda f: [c for c in f.calls("chat.postEphemeral") if c.args["user"] == ALICE],
        what="alice told where her card is",
    )
    assert pending.id in json.dumps(told[-1].args)
