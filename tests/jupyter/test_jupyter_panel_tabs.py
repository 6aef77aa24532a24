"""`register_panel_tabs`: the Jupyter plugin's own hook lets another plugin add a panel tab."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as W
import pytest

from modeldeck import plugins
from modeldeck.hookspecs import hookimpl
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter import hookspecs as jupyter_hookspecs
from modeldeck_jupyter.panel import TAB_TITLES


class TabPlugin:
    """Adds one tab that shows who the panel acts for."""

    seen: list[Any]

    def __init__(self) -> None:
        self.seen = []

    @hookimpl
    def register_panel_tabs(self, register: Callable[..., None], panel: Any) -> None:
        self.seen.append(panel)
        register("Team", W.HTML(value=f"<b>{panel.user}</b>'s team"))


class BrokenTabPlugin:
    @hookimpl
    def register_panel_tabs(self, register: Callable[..., None], panel: Any) -> None:
        raise RuntimeError("this plugin is broken")


@pytest.fixture
def registered() -> Iterator[list[Any]]:
    pm = plugins.get_plugin_manager()
    added: list[Any] = []
    yield added
    for plugin in added:
        pm.unregister(plugin)


def build(stack: Stack) -> DeckPanel:
    assert stack.deck is not None
    return Deck(stack.deck, user="alice", auto_refresh=False)


def test_the_hook_is_declared_on_the_one_manager() -> None:
    pm = plugins.get_plugin_manager()
    assert hasattr(pm.hook, "register_panel_tabs")
    spec = pm.hook.register_panel_tabs.spec
    assert spec is not None and spec.namespace is jupyter_hookspecs


def test_a_plugin_adds_a_tab_after_the_panel_s_own(
    stack: Stack, registered: list[Any]
) -> None:
    plugin = TabPlugin()
    plugins.get_plugin_manager().register(plugin, name="tab-plugin")
    registered.append(plugin)
    panel = build(stack)
    try:
        assert tuple(panel.tabs.titles) == (*TAB_TITLES, "Team")
        tab = panel.tabs.children[-1]
        assert isinstance(tab, W.HTML) and "alice" in tab.value
        assert plugin.seen == [panel]
    finally:
        panel.close()


def test_a_failing_plugin_leaves_the_panel_and_the_other_tabs(
    stack: Stack, registered: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = TabPlugin(), BrokenTabPlugin()
    pm = plugins.get_plugin_manager()
    pm.register(bad, name="broken-tab-plugin")
    pm.register(good, name="tab-plugin")
    registered.extend([bad, good])
    panel = build(stack)
    try:
        assert tuple(panel.tabs.titles) == (*TAB_TITLES, "Team")
        assert "broken-tab-plugin failed in hook register_panel_tabs" in caplog.text
    finally:
        panel.close()
