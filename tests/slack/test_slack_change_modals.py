"""Scale, renew and unpublish as modals over the signed wire: opened from a button with a live
trigger, re-priced with views.update, field errors in `response_action: errors` with the
grammar's words, and a submission making the same request as the typed command."""

from __future__ import annotations

import json

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack.modals import (
    CHANGE_FIELD_PREFIX,
    CONFIRM_BLOCK,
    DEPLOYMENT_MENU_ACTION,
    OPEN_RENEW_ACTION,
    OPEN_SCALE_ACTION,
    RENEW_MODAL,
    SCALE_MODAL,
    UNPUBLISH_MODAL,
)
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.slack_env import ALICE, CHANNEL, MU_MODEL, SlackUser
from tests.slack.ui_helpers import card_of, chosen, press, running_deployment, typed

UNITS = CHANGE_FIELD_PREFIX + "units"


def estimate_text(view: dict[str, object]) -> str:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    (section,) = [b for b in blocks if b.get("block_id") == "estimate"]
    return str(section["text"]["text"])


def test_scale_modal_shows_now_new_and_the_difference_and_requests_the_scale(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    resp, _ = press(alice, OPEN_SCALE_ACTION, dep.id)
    assert resp.status_code == 200
    fake_slack.wait_for_call("views.open", lambda c: c.args["view"]["callback_id"] == SCALE_MODAL)
    view = fake_slack.opened_view(SCALE_MODAL)
    assert "Now: " in estimate_text(view) and "$960.00 per day" in estimate_text(view)
    units = [b for b in view["blocks"] if b.get("block_id") == "units"]
    assert units and units[0]["dispatch_action"] is True
    # typing 3 units and pressing Enter re-prices the modal in place
    action = {"type": "plain_text_input", "action_id": UNITS, "block_id": "units", "value": "3"}
    assert alice.change(view, action, typed("units", UNITS, "3")).status_code == 200
    update = fake_slack.wait_for_call("views.update")
    assert update.args["view_id"] == view["id"]
    shown = estimate_text(update.args["view"])
    assert "$2,880.00 per day" in shown and "+$1,920.00 per day" in shown
    assert "+$57,600.00 per 30 days" in shown
    view = fake_slack.opened_view(SCALE_MODAL)
    # the grammar's own words come back on the field; nothing is requested
    bad = alice.submit(view, typed("units", UNITS, "0"))
    assert bad.status_code == 200
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"units": "units=0 is too small: units must be at least 1."},
    }
    # beyond the billing rules' bounds: the estimate's own words, in the ack, on the field
    big = alice.submit(view, typed("units", UNITS, "1000")).json()
    assert big["response_action"] == "errors"
    assert big["errors"]["units"].startswith("units=1000 is out of range.")
    assert stack.deck is not None and stack.deck.list_requests("pending") == []
    values = {**typed("units", UNITS, "3"), **typed("reason", "reason", "peak week")}
    ok = alice.submit(view, values)
    assert ok.status_code == 200 and not ok.content.strip(b"{} ")  # the modal closes
    request_id, ts = card_of(fake_slack, 2)
    request = stack.deck.get_request(request_id)
    assert request.kind == "scale" and request.status == RequestStatus.PENDING
    assert request.scale is not None and request.scale.units == 3 and request.reason == "peak week"
    card = json.dumps(fake_slack.message(CHANNEL, ts).blocks)
    assert "+$1,920.00" in card  # the card says the same difference
    told = fake_slack.wait_for(
        lambda f: [c for c in f.calls("chat.postEphemeral") if request_id in json.dumps(c.args)],
        what="alice told about her scale request",
    )
    assert told[0].args["user"] == ALICE


def test_unpublish_needs_the_deployment_name_typed_exactly(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    name = dep.deployed_model or dep.id
    press(alice, DEPLOYMENT_MENU_ACTION, f"unpublish:{dep.id}", option=True)
    fake_slack.wait_for_call(
        "views.open", lambda c: c.args["view"]["callback_id"] == UNPUBLISH_MODAL
    )
    view = fake_slack.opened_view(UNPUBLISH_MODAL)
    assert name in json.dumps(view["blocks"]) and "cannot be undone" in json.dumps(view["blocks"])
    for wrong in ("", name.upper(), name[:-1], "yes"):
        resp = alice.submit(view, typed(CONFIRM_BLOCK, CONFIRM_BLOCK, wrong or None))
        body = resp.json()
        assert body["response_action"] == "errors", wrong
        assert f"Type {name} exactly to confirm" in body["errors"][CONFIRM_BLOCK]
    assert stack.deck is not None and stack.deck.list_requests("pending") == []
    ok = alice.submit(view, typed(CONFIRM_BLOCK, CONFIRM_BLOCK, f" {name} "))
    assert ok.status_code == 200 and not ok.content.strip(b"{} ")
    request_id, _ = card_of(fake_slack, 2)
    request = stack.deck.get_request(request_id)
    assert request.kind == "unpublish" and request.deployment_id == dep.id


def test_renew_modal_prices_the_days_and_requests_the_renewal(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    from tests.slack.slack_env import CAROL, PTU_MODEL

    carol = SlackUser(CAROL, bob.sender, fake_slack)
    dep = running_deployment(
        stack, alice, [bob, carol], f"deploy {PTU_MODEL} ptu in=20k out=2k billing=upfront days=2"
    )
    press(alice, OPEN_RENEW_ACTION, dep.id)
    fake_slack.wait_for_call("views.open", lambda c: c.args["view"]["callback_id"] == RENEW_MODAL)
    view = fake_slack.opened_view(RENEW_MODAL)
    days = CHANGE_FIELD_PREFIX + "days"
    auto = CHANGE_FIELD_PREFIX + "auto_renew"
    values = {**typed("days", days, "7"), **chosen("auto_renew", auto, "on")}
    action = {"type": "plain_text_input", "action_id": days, "block_id": "days", "value": "7"}
    alice.change(view, action, values)
    update = fake_slack.wait_for_call("views.update")
    assert stack.deck is not None
    from modeldeck.domain import DeploySpec

    seven = stack.deck.estimate(
        DeploySpec(
            model=PTU_MODEL, plan="ptu", billing="upfront", days=7, input_tpm=20000, output_tpm=2000
        )
    )
    from modeldeck.money import format_amount

    shown = estimate_text(update.args["view"])
    assert format_amount(seven.total, seven.currency) in shown and "paid upfront" in shown
    view = fake_slack.opened_view(RENEW_MODAL)
    bad = alice.submit(view, {**typed("days", days, "x"), **chosen("auto_renew", auto, "on")})
    assert bad.json()["response_action"] == "errors"
    assert bad.json()["errors"]["days"].startswith("days=x is not a whole number")
    ok = alice.submit(view, values)
    assert ok.status_code == 200
    request_id, _ = card_of(fake_slack, 2)
    request = stack.deck.get_request(request_id)
    assert request.kind == "renew" and request.renew is not None
    assert request.renew.days == 7 and request.renew.auto_renew is True


def test_renew_of_an_hourly_deployment_says_why_instead_of_a_form(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    press(alice, OPEN_RENEW_ACTION, dep.id)
    opened = fake_slack.wait_for_call("views.open")
    view = opened.args["view"]
    assert "submit" not in view and "only an upfront PTU order is renewed" in json.dumps(view)


def test_a_button_for_a_deployment_that_does_not_exist_opens_a_notice(
    alice: SlackUser, fake_slack: FakeSlack
) -> None:
    press(alice, OPEN_SCALE_ACTION, "dep_nope")
    opened = fake_slack.wait_for_call("views.open")
    assert "submit" not in opened.args["view"] and "dep_nope" in json.dumps(opened.args["view"])


def test_the_verb_and_a_deployment_alone_open_its_modal(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    name = dep.deployed_model or dep.id
    for verb, callback in (("scale", SCALE_MODAL), ("unpublish", UNPUBLISH_MODAL)):
        resp, _ = alice.command(f"{verb} {name}")
        assert resp.status_code == 200 and not resp.content.strip(b"{} ")  # an empty ack

        def opened(call: Call, callback: str = callback) -> bool:
            return bool(call.args["view"]["callback_id"] == callback)

        fake_slack.wait_for_call("views.open", opened)
        view = fake_slack.opened_view(callback)
        assert json.loads(view["private_metadata"]) == {"d": dep.id, "c": CHANNEL}
    # the whole command still works as typed, without a form
    assert "waiting for approval" in alice.answer(f"scale {name} units=2")


def test_a_form_opened_from_app_home_answers_in_a_dm(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """A button in a view (App Home) has no channel: the answer goes to the requester's DM (and
    says where the card is; with no channel configured, that it could not be posted)."""
    import time

    from tests.slack.fake_slack import dm_channel
    from tests.slack.slack_wire import interaction_body

    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "team_id": "T0MODELDECK"},
        "api_app_id": "A0MODELDECK",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": "VHOME"},
        "trigger_id": fake_slack.trigger_id(),
        "team": {"id": "T0MODELDECK", "domain": "modeldeck-fake"},
        "view": {"id": "VHOME", "type": "home", "blocks": []},
        "actions": [
            {
                "action_id": OPEN_SCALE_ACTION,
                "block_id": "home",
                "type": "button",
                "value": dep.id,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    assert alice.sender.post(interaction_body(payload)).status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(SCALE_MODAL)
    assert json.loads(view["private_metadata"]) == {"d": dep.id, "c": None}
    assert alice.submit(view, typed("units", UNITS, "2")).status_code == 200
    assert stack.deck is not None
    deck = stack.deck
    (scale,) = fake_slack.wait_for(
        lambda f: deck.list_requests("pending"), what="the scale request"
    )
    assert scale.kind == "scale"
    told = fake_slack.wait_for(
        lambda f: [m for m in f.dm_messages(ALICE) if f"`{scale.id}` is waiting" in m.text],
        what="alice's DM about her scale request",
    )
    assert told[0].channel == dm_channel(ALICE)
    assert "set MODELDECK_SLACK__CHANNEL" in told[0].text  # no channel anywhere for its card


def test_app_home_buttons_open_the_change_forms(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """The dashboard's Scale…/Unpublish… (App Home's own module) open these forms."""
    from tests.slack.slack_wire import block_actions_payload, interaction_body

    dep = running_deployment(stack, alice, [bob], f"deploy {MU_MODEL} mu units=1")
    alice.sender.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})

    def home_with(f: FakeSlack) -> dict[str, object] | None:
        home = f.state.home.get(ALICE)
        return home if home and dep.id in json.dumps(home) else None

    home = fake_slack.wait_for(home_with, what="App Home with the deployment")
    found = [
        el
        for b in home["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el.get("value") == dep.id
    ]
    ids = [el["action_id"] for el in found]
    assert OPEN_SCALE_ACTION in ids
    for action_id, callback in (
        (OPEN_SCALE_ACTION, SCALE_MODAL),
        ("modeldeck_open_unpublish", UNPUBLISH_MODAL),
    ):
        payload = block_actions_payload(
            action_id=action_id,
            value=dep.id,
            user=ALICE,
            channel="",
            message_ts="",
            response_url="",
            trigger_id=fake_slack.trigger_id(),
        )
        payload["container"] = {"type": "view", "view_id": home["id"]}
        payload["view"] = home
        for key in ("channel", "message", "response_url"):
            payload.pop(key)
        assert alice.sender.post(interaction_body(payload)).status_code == 200

        def opened(call: Call, callback: str = callback) -> bool:
            return bool(call.args["view"]["callback_id"] == callback)

        fake_slack.wait_for_call("views.open", opened)
        assert json.loads(fake_slack.opened_view(callback)["private_metadata"])["d"] == dep.id
