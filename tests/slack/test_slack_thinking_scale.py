"""The scale form of a PTU deployment in thinking mode asks for thinking output TPM (the
grammar's `thinking_out=`) when Model Studio takes one: on the legacy API, not on the
reservations API (whose output TPM serves thinking too, and which refuses a separate figure)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modeldeck.testing import Stack
from modeldeck_slack.modals import CHANGE_FIELD_PREFIX, OPEN_SCALE_ACTION, SCALE_MODAL
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import SlackUser, slack_settings
from tests.slack.test_slack_costs import deployed
from tests.slack.ui_helpers import card_of, press, typed

THINKING_MODEL = "deepseek-v3.2"  # PTU, thinking mode, a thinking output price listed
FIELD = CHANGE_FIELD_PREFIX + "thinking_out"


@pytest.fixture(params=["legacy", "reservations"])
def stack(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> Iterator[Stack]:
    """The Slack stack on one Model Studio API generation (sandbox and provider agree)."""
    generation = str(request.param)
    with Stack(
        slack=slack_settings(fake_slack),
        provider={"api_generation": generation},
        sandbox_options={"api_generation": generation},
    ) as running:
        yield running


def scale_form(user: SlackUser, fake: FakeSlack, deployment_id: str) -> dict[str, object]:
    press(user, OPEN_SCALE_ACTION, deployment_id)
    fake.wait_for_call("views.open", lambda c: c.args["view"]["callback_id"] == SCALE_MODAL)
    return fake.opened_view(SCALE_MODAL)


def test_scale_form_asks_for_thinking_output_tpm_where_model_studio_takes_it(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    assert stack.deck is not None and stack.settings is not None
    legacy = stack.settings.provider.api_generation == "legacy"
    thinking = " thinking_out=2000" if legacy else ""
    words = f"deploy {THINKING_MODEL} ptu mode=thinking in=20000 out=2000{thinking}"
    dep = deployed(stack, alice, bob, words)
    view = scale_form(alice, fake_slack, dep.id)
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    found = [b for b in blocks if b.get("block_id") == "thinking_out"]
    if not legacy:
        assert found == [] and [b.get("block_id") for b in blocks][1:3] == ["in", "out"]
        return
    assert dep.thinking_output_tpm == 2000
    (block,) = found
    assert block["element"]["action_id"] == FIELD and block["element"]["initial_value"] == "2000"
    bad = alice.submit(view, typed("thinking_out", FIELD, "abc")).json()
    assert bad["response_action"] == "errors" and "thinking_out" in bad["errors"], bad
    as_slack_sends = {  # the form's state: the TPM fields as they were filled in, one changed
        **typed("in", CHANGE_FIELD_PREFIX + "in", "20000"),
        **typed("out", CHANGE_FIELD_PREFIX + "out", "2000"),
        **typed("thinking_out", FIELD, "4k"),
    }
    ok = alice.submit(view, as_slack_sends)
    assert ok.status_code == 200 and not ok.content.strip(b"{} ")
    request_id, _ = card_of(fake_slack, 2)
    request = stack.deck.get_request(request_id)
    assert request.kind == "scale" and request.scale is not None
    assert request.scale.thinking_output_tpm == 4000
