"""The panel driven in-process, as a user would in a kernel: change widgets, click buttons."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from modeldeck.domain import DeploymentRecord, DeploySpec
from modeldeck.errors import UserError
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.render import esc

PTU_MODEL = "qwen3-max-2025-09-23"
OTHER_PTU_MODEL = "qwen-flash-2025-07-28"
MU_MODEL = "qwen3-32b"


@pytest.fixture
def panel(stack: Stack) -> Iterator[DeckPanel]:
    assert stack.deck is not None
    built = Deck(stack.deck, user="alice")
    yield built
    built.close()


def _total(panel: DeckPanel) -> str:
    assert panel.last_estimate is not None, panel.last_error
    return format_amount(panel.last_estimate.total, panel.last_estimate.currency)


def test_lists_the_catalog_models(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    catalog = {row["model"] for row in stack.deck.models() if row.get("plan") in ("ptu", "mu")}
    assert set(panel.model.options) == catalog
    assert {PTU_MODEL, OTHER_PTU_MODEL, MU_MODEL} <= catalog


def test_changing_the_model_updates_the_estimate(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    first_html, first_total = panel.estimate_html.value, _total(panel)
    panel.model.value = OTHER_PTU_MODEL
    assert panel.estimate_html.value != first_html
    assert _total(panel) != first_total
    expected = stack.deck.estimate(panel.build_spec())
    assert esc(format_amount(expected.total, expected.currency)) in panel.estimate_html.value
    assert OTHER_PTU_MODEL in panel.estimate_html.value


def test_worked_example_through_the_form(panel: DeckPanel) -> None:
    """Billing rules example 1, typed into the panel: 20,000 in / 2,000 out TPM for 10 hours."""
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    panel.billing.value = "hourly"
    panel.input_tpm.value = "20_000"
    panel.output_tpm.value = "2_000"
    panel.hours.value = "10"
    assert "$31.20" in visible_text(panel.estimate_html.value)


def test_bad_capacity_shows_a_clear_red_error(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    panel.input_tpm.value = "15_000"
    html = panel.estimate_html.value
    assert panel.last_estimate is None
    assert "modeldeck-error" in html
    assert "Traceback" not in html
    with pytest.raises(UserError) as raised:
        stack.deck.estimate(panel.build_spec())
    assert esc(str(raised.value)) in html
    panel.input_tpm.value = "20_000"
    assert panel.last_estimate is not None
    assert "modeldeck-error" not in panel.estimate_html.value


def test_unlisted_price_is_an_error_never_zero(panel: DeckPanel) -> None:
    """Billing rules example 8: qwen-plus thinking has no listed PTU output price."""
    panel.model.value = "qwen-plus-2025-12-01"
    panel.plan.value = "ptu"
    panel.mode.value = "thinking"
    panel.output_tpm.value = "1_000"
    assert panel.last_estimate is None
    assert "modeldeck-error" in panel.estimate_html.value
    assert "not listed" in panel.estimate_html.value
    assert "$0.00" not in visible_text(panel.estimate_html.value)


def test_bad_hours_are_explained(panel: DeckPanel) -> None:
    panel.billing.value = "hourly"
    panel.hours.value = "ten"
    assert "hours=ten is not a number: write e.g. hours=10" in panel.estimate_html.value


def test_form_follows_the_plan(panel: DeckPanel) -> None:
    panel.model.value = MU_MODEL
    assert panel.plan.value == "mu"
    assert list(panel.billing.options) == [
        ("Hourly", "hourly"),
        ("Monthly", "monthly"),
    ]
    assert panel.units.layout.display is None
    assert panel.input_tpm.layout.display == "none"
    panel.billing.value = "monthly"
    assert panel.months.layout.display is None
    assert panel.hours.layout.display == "none"
    assert panel.build_spec() == DeploySpec(
        model=MU_MODEL, plan="mu", mode="instruct", billing="monthly", units=1, months=1
    )
    panel.model.value = PTU_MODEL
    assert panel.plan.value == "ptu"
    assert panel.billing.value == "hourly"
    assert panel.input_tpm.layout.display is None


def test_request_deploy_pending_and_double_click_refused(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    panel.model.value = PTU_MODEL
    panel.plan.value = "ptu"
    panel.reason.value = "load test for the launch"
    before = len(stack.deck.list_requests())
    panel.deploy_button.click()
    request = panel.last_request
    assert request is not None
    assert request.requester == "alice"
    assert request.surface == "jupyter"
    assert request.reason == "load test for the launch"
    assert request.id in panel.deploy_result_html.value
    assert str(request.status) == "pending"
    panel.deploy_button.click()  # the same form again: a double click
    assert "already sent" in panel.deploy_result_html.value
    assert len(stack.deck.list_requests()) == before + 1
    assert not panel.deploy_button.disabled


def test_auto_approved_deploy_shows_in_the_table(auto_stack: Stack) -> None:
    assert auto_stack.deck is not None
    panel = Deck(auto_stack.deck, user="bob")
    try:
        panel.model.value = MU_MODEL
        panel.reason.value = "demo"
        record = panel.request_deploy()
        assert record is not None, panel.deploy_result_html.value
        assert str(record.status) == "executed", panel.deploy_result_html.value
        assert "Auto-approved" in panel.deploy_result_html.value
        panel.refresh_button.click()
        assert record.deployment_id is not None
        assert [d.id for d in panel.deployments] == [record.deployment_id]
        assert MU_MODEL in panel.deployments_html.value
        assert "1 deployment(s)" in panel.deployments_status_html.value
    finally:
        panel.close()


def test_unlinked_notebook_user_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    principals = [{"name": "carol", "jupyter_user": "carol", "roles": ["deployer"]}]
    with Stack(principals=principals) as linked:
        assert linked.deck is not None
        stranger = Deck(linked.deck, user="mallory")  # an unlinked name acts as nobody
        monkeypatch.setenv("JUPYTERHUB_USER", "carol")  # in-process, identity is the kernel's
        carol = Deck(linked.deck)
        try:
            assert "not linked" in stranger.header_html.value
            assert stranger.request_deploy() is None
            assert "not linked" in stranger.deploy_result_html.value
            assert "jupyter_user" in stranger.deploy_result_html.value
            assert "carol (deployer)" in carol.header_html.value
        finally:
            stranger.close()
            carol.close()


def test_auto_refresh_polls_and_stops(panel: DeckPanel) -> None:
    polled = threading.Event()
    original = panel.refresh_deployments

    def counting(sync: bool = True) -> list[DeploymentRecord] | None:
        result = original(sync=sync)
        polled.set()
        return result

    panel.refresh_deployments = counting  # type: ignore[method-assign]
    panel.start_auto_refresh(0.02)
    assert panel.auto_refresh.description == "Auto-refresh every 0.02 s"
    assert panel.auto_refresh.value is True
    assert polled.wait(30), "auto-refresh never polled"
    panel.auto_refresh.value = False  # unticking the box stops the thread
    assert not panel.auto_refreshing
    panel.auto_refresh.value = True
    assert panel.auto_refreshing
    panel.close()
    assert not panel.auto_refreshing


def test_displays_as_a_widget(panel: DeckPanel) -> None:
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
    assert "modeldeck-panel" in panel.widget._dom_classes
    assert "modeldeck-estimate" in panel.estimate_html._dom_classes


def test_remote_panel_against_the_server(stack: Stack) -> None:
    remote = Deck(server=stack.server_url, user="dave").wait()
    try:
        assert remote.connection is not None and remote.connection.remote
        assert stack.server_url in remote.header_html.value
        remote.model.value = PTU_MODEL
        remote.plan.value = "ptu"
        remote.billing.value = "upfront"
        remote.input_tpm.value = "20_000"
        remote.output_tpm.value = "2_000"
        remote.days.value = "7"
        assert "$262.08" in visible_text(remote.estimate_html.value)  # billing rules example 2
    finally:
        remote.close()


def test_server_from_the_environment(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_SERVER__URL", stack.server_url)
    monkeypatch.setenv("JUPYTERHUB_USER", "erin")
    remote = Deck().wait()
    try:
        assert remote.connection is not None
        assert remote.connection.target == f"server {stack.server_url}"
        assert remote.user == "erin"
        assert "<b>erin</b> →" in remote.header_html.value
    finally:
        remote.close()


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("ftp://example", "is not an http(s) URL"),
        ("http://user:secret@127.0.0.1:1", "must not carry credentials"),
        ("http://127.0.0.1:1", "Cannot reach the modeldeck server"),
    ],
)
def test_bad_server_is_shown_not_raised(server: str, expected: str) -> None:
    broken = Deck(server=server, user="frank").wait()
    try:
        assert expected in broken.status_html.value
        assert "secret" not in broken.status_html.value + broken.header_html.value
        assert broken.deploy_button.disabled
        assert broken.request_deploy() is None
        assert "Not connected" in broken.deploy_result_html.value
    finally:
        broken.close()


def test_single_user_panel_starts_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """No server configured: the core runs in the kernel and the sandbox is started for it."""
    from modeldeck.serving import free_port
    from modeldeck_jupyter.embedded import listening, stop_sandboxes

    port = free_port()
    monkeypatch.setenv("MODELDECK_SANDBOX__PORT", str(port))
    monkeypatch.setenv("MODELDECK_SANDBOX__DEPLOY_DELAY_SECONDS", "0")
    monkeypatch.setenv("MODELDECK_POLICY__AUTO_APPROVE_BELOW_USD_PER_DAY", "100000")
    assert not listening("127.0.0.1", port)
    local = Deck(user="grace").wait()
    second = Deck(user="grace").wait()
    try:
        assert local.connection is not None and not local.connection.remote
        assert "started by this kernel" in local.header_html.value
        assert listening("127.0.0.1", port)
        assert second.connection is not None
        assert second.connection.target == local.connection.target  # shared, not restarted
        local.model.value = MU_MODEL
        record = local.request_deploy()
        assert record is not None, local.deploy_result_html.value
        assert str(record.status) == "executed"
        rows = local.refresh_deployments(sync=True)
        assert rows is not None and [d.model for d in rows] == [MU_MODEL]
        assert rows[0].deployed_model  # the sandbox created it
    finally:
        local.close()
        second.close()
        stop_sandboxes()
    assert not listening("127.0.0.1", port)


def test_a_given_remote_deck_counts_as_team_mode(stack: Stack) -> None:
    from modeldeck.server.client import RemoteDeck

    client = RemoteDeck(stack.server_url)
    panel = Deck(client, user="heidi")
    try:
        assert panel.connection is not None
        assert panel.connection.remote
        assert panel.connection.target == f"server {stack.server_url}"
    finally:
        panel.close()
    assert client.models()  # the panel did not close a deck it was given
    client.close()


@pytest.mark.parametrize("hours", ["1,0,0", "10,00", "1_0_", "-1"])
def test_hours_the_grammar_refuses_the_form_refuses(panel: DeckPanel, hours: str) -> None:
    """The form reads hours with the grammar's own reader: its looser copy took `1,0,0` as 100."""
    from modeldeck.errors import GrammarError
    from modeldeck.grammar import parse

    panel.model.value = MU_MODEL
    panel.plan.value = "mu"
    panel.billing.value = "hourly"
    panel.hours.value = hours
    assert panel.last_estimate is None
    assert "modeldeck-error" in panel.estimate_html.value
    with pytest.raises(GrammarError):
        parse(f"estimate {MU_MODEL} mu units=1 hours={hours}")
    panel.hours.value = "1,000"  # what the grammar accepts, the form accepts
    assert panel.last_estimate is not None and panel.build_spec().hours == 1000
