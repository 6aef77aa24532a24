"""The plugin system: temporary plugins, misspelled hooks, and the env switches."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from modeldeck import hookspecs, plugins
from modeldeck.domain import Actor, DeploySpec
from modeldeck.errors import ConfigError
from modeldeck.hookspecs import hookimpl


class Recorder:
    """A temporary plugin that records the notification hooks."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.decided: list[tuple[str, str]] = []
        self.status: list[tuple[str | None, str]] = []

    @hookimpl
    def request_created(self, request, deck):  # type: ignore[no-untyped-def]
        self.created.append(request.id)

    @hookimpl
    def request_decided(self, request, deck):  # type: ignore[no-untyped-def]
        self.decided.append((request.id, request.status.value))

    @hookimpl
    def deployment_status_changed(self, deployment, old_status, new_status, deck):  # type: ignore[no-untyped-def]
        self.status.append((old_status, new_status))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    pm = plugins.get_plugin_manager()
    pm.register(rec, name="test-recorder")
    yield rec
    pm.unregister(rec)


def test_request_created_hook_reaches_a_temporary_plugin(recorder: Recorder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from modeldeck.deck import Deck
    from modeldeck.settings import Settings

    deck = Deck(Settings(data_dir=tmp_path))
    actor = Actor(principal="alice", surface="cli", roles=["deployer"])
    req = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), actor, "test")
    assert recorder.created == [req.id]
    assert req.status.value == "pending"  # $960/day is above the default auto-approve of $0
    deck.close()


def test_misspelled_hook_fails_loudly() -> None:
    bad = types.ModuleType("modeldeck_bad_plugin")

    @hookimpl
    def request_creatd(request, deck):  # type: ignore[no-untyped-def]  # misspelled on purpose
        pass

    bad.request_creatd = request_creatd  # type: ignore[attr-defined]
    pm = plugins.get_plugin_manager()
    pm.register(bad, name="bad")
    try:
        with pytest.raises(Exception, match="unknown hook 'request_creatd'"):
            pm.check_pending()
    finally:
        pm.unregister(bad)


def test_load_plugins_empty_loads_none(monkeypatch: pytest.MonkeyPatch) -> None:
    plugins.reset_plugin_manager()
    monkeypatch.setenv("MODELDECK_LOAD_PLUGINS", "")
    names = {p["name"] for p in plugins.describe_plugins()}
    assert names and all(n.startswith("modeldeck.default.") for n in names)
    plugins.reset_plugin_manager()
    monkeypatch.delenv("MODELDECK_LOAD_PLUGINS")
    names = {p["name"] for p in plugins.describe_plugins()}
    assert {"slack", "jupyter"} <= names  # both workspace members are installed with entry points


def test_load_plugins_selects_and_rejects_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELDECK_LOAD_PLUGINS", "jupyter")
    names = {p["name"] for p in plugins.describe_plugins()}
    assert "jupyter" in names and "slack" not in names
    plugins.reset_plugin_manager()
    monkeypatch.setenv("MODELDECK_LOAD_PLUGINS", "jupyter,nope")
    with pytest.raises(ConfigError, match="'nope', which is not installed"):
        plugins.get_plugin_manager()


def test_trace_switch_writes_hook_calls(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MODELDECK_TRACE_PLUGINS", "1")
    plugins.reset_plugin_manager()
    plugins.hook().register_providers(register=lambda *a, **k: None)
    assert "register_providers" in capsys.readouterr().err


def test_every_hook_has_a_documented_spec() -> None:
    """Each hookspec says what it takes and returns (docs and a fixture plugin are checked
    in tests/core/test_hook_docs.py and tests/workflow/test_hooks.py)."""
    specs = [n for n in dir(hookspecs) if getattr(getattr(hookspecs, n), "modeldeck_spec", None)]
    assert specs
    for name in specs:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert ":param" in doc and ":return" in doc, f"hookspec {name} is not documented"


def test_duplicate_registration_is_refused() -> None:
    from modeldeck.registry import collect

    def twice(register):  # type: ignore[no-untyped-def]
        register("modelstudio", object())
        register("modelstudio", object())

    with pytest.raises(ConfigError, match="Two plugins register the provider 'modelstudio'"):
        collect("provider", twice)


@pytest.mark.slow
def test_plugins_cli_lists_name_version_hooks() -> None:
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "modeldeck", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["slack"]["distribution"] == "modeldeck-slack"
    assert "register_routes" in rows["slack"]["hooks"]
    assert rows["modeldeck.default.policy"]["hooks"] == ["evaluate_policy"]
