"""Every hook, exercised by a fixture plugin that implements them all, through a real deck."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta

import pytest

from modeldeck import hookspecs, plugins
from modeldeck.domain import Actor, DeploySpec
from modeldeck.events import OrderRecorded, event_types
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import RunningSandbox
from tests.workflow.everything_plugin import EverythingPlugin, PluginSaidHello
from tests.workflow.wfhelpers import MakeDeck


def hookspec_names() -> list[str]:
    return sorted(
        n for n in dir(hookspecs) if getattr(getattr(hookspecs, n), "modeldeck_spec", None)
    )


@pytest.fixture
def everything() -> Iterator[EverythingPlugin]:
    plugin = EverythingPlugin()
    pm = plugins.get_plugin_manager()
    pm.register(plugin, name="everything")
    yield plugin
    pm.unregister(plugin)


def test_the_fixture_plugin_implements_every_hook_with_its_parameters() -> None:
    """Meta-test: a new hookspec without an implementation (same parameters) here fails."""
    for name in hookspec_names():
        impl = getattr(EverythingPlugin, name, None)
        assert impl is not None, f"tests/workflow/everything_plugin.py does not implement {name}"
        assert getattr(impl, "modeldeck_impl", None) is not None, f"{name} is not a @hookimpl"
        spec_params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        impl_params = [p for p in inspect.signature(impl).parameters if p != "self"]
        assert impl_params == spec_params, f"{name}: {impl_params} != spec {spec_params}"


def test_every_hook_is_called_by_the_workflow(
    everything: EverythingPlugin, make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    from modeldeck.server.app import create_app

    deck = make_deck(policy={"two_approvers_for_upfront": False})
    # identity: an SSO user that [[principals]] does not know is the plugin's actor
    sso = deck.resolve_actor("api", EverythingPlugin.SSO_USER)
    assert sso.principal == "sso-sam" and sso.roles == ["deployer"]
    alice = deck.resolve_actor("jupyter", "alice")
    bob = deck.resolve_actor("jupyter", "bob")
    spec = DeploySpec(
        model="qwen3-max-2025-09-23",
        plan="ptu",
        input_tpm=10000,
        output_tpm=1000,
        billing="upfront",
        days=1,
    )
    req = deck.request_deploy(spec, alice)
    outcome = deck.approve(req.id, bob)
    assert outcome.outcome == "executed"
    order = next(e.order for e in everything.events() if isinstance(e, OrderRecorded))
    order_id, expires = order.id, order.expires_at
    assert expires is not None
    Reconciler(deck).run_once(now=expires - timedelta(hours=23))
    create_app(deck, deck.settings)
    plugins.hook().startup(deck=deck, settings=deck.settings)
    plugins.hook().register_providers(register=lambda *a, **k: None)
    plugins.hook().register_catalogs(register=lambda *a, **k: None)
    from modeldeck.cli import build_cli
    from modeldeck.grammar import all_verbs
    from modeldeck.rendering import renderers

    all_verbs()  # register_verbs, collected on first use
    renderers()  # register_renderers
    build_cli()  # register_commands
    assert event_types()["everything_plugin_hello"] is PluginSaidHello

    assert set(everything.calls) == set(hookspec_names()), "some hook was never called"
    assert everything.calls["request_created"][0]["request"].id == req.id
    assert everything.calls["request_decided"][-1]["request"].status.value == "executed"
    assert {"event": "expires_in_24h"}.items() <= everything.calls["upfront_timeline"][0].items()
    assert everything.calls["upfront_timeline"][0]["order"]["id"] == order_id
    names = [e.name for e in everything.events()]
    for expected in (
        "request_created",
        "request_decided",
        "execution_started",
        "deployment_status_changed",
        "order_recorded",
        "execution_succeeded",
        "order_timeline",
    ):
        assert expected in names, f"no {expected} event (got {names})"
    assert names.index("execution_started") < names.index("execution_succeeded")


def test_an_sso_actor_is_refused_what_its_roles_do_not_allow(
    everything: EverythingPlugin, make_deck: MakeDeck
) -> None:
    from modeldeck.errors import PermissionDenied

    deck = make_deck()
    sso = deck.resolve_actor("api", EverythingPlugin.SSO_USER)
    with pytest.raises(PermissionDenied):
        deck.approve("req_nope", sso)
    assert isinstance(sso, Actor)
