"""The one pluggy plugin manager, loaded lazily once.

Installed plugins are found through the entry-point group ``modeldeck``. The switches:
``MODELDECK_LOAD_PLUGINS`` - a comma list of entry-point names to load (empty: load none);
built-in default plugins always load. ``MODELDECK_TRACE_PLUGINS`` - any non-empty value traces
every hook call to stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from importlib.metadata import entry_points
from typing import Any

import pluggy

from modeldeck import hookspecs
from modeldeck.errors import ConfigError

log = logging.getLogger(__name__)

GROUP = "modeldeck"
DEFAULT_PLUGINS = (
    "modeldeck.default_plugins.providers",
    "modeldeck.default_plugins.policy",
    "modeldeck.default_plugins.catalog",
    "modeldeck.default_plugins.events",
    "modeldeck.default_plugins.identity",
    "modeldeck.default_plugins.renderers",
)

_lock = threading.Lock()
_pm: pluggy.PluginManager | None = None


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        pm.register(module, name=f"modeldeck.default.{module_name.rsplit('.', 1)[-1]}")
    wanted = os.environ.get("MODELDECK_LOAD_PLUGINS")
    if wanted is None:
        pm.load_setuptools_entrypoints(GROUP)
    else:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        available = {ep.name: ep for ep in entry_points(group=GROUP)}
        for name in names:
            if name not in available:
                raise ConfigError(
                    f"MODELDECK_LOAD_PLUGINS names {name!r}, which is not installed.",
                    hint=f"Installed plugins: {', '.join(sorted(available)) or 'none'}.",
                )
            if pm.get_plugin(name) is None:
                pm.register(available[name].load(), name=name)
    _add_plugin_hookspecs(pm)
    pm.check_pending()
    if os.environ.get("MODELDECK_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda text: sys.stderr.write(text))
        pm.enable_tracing()
    return pm


def _add_plugin_hookspecs(pm: pluggy.PluginManager) -> None:
    """Hooks a loaded plugin declares for others (its ``modeldeck_hookspecs`` module, like the
    Jupyter plugin's `register_panel_tabs`), added before implementations are checked."""
    for _name, plugin in pm.list_name_plugin():
        specs = getattr(plugin, "modeldeck_hookspecs", None)
        if specs is not None:
            pm.add_hookspecs(specs)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, created and loaded on first use."""
    global _pm
    if _pm is None:
        with _lock:
            if _pm is None:
                _pm = _new_manager()
    return _pm


def reset_plugin_manager() -> None:
    """Forget the manager so the next use reloads (tests and env switch changes)."""
    global _pm
    with _lock:
        _pm = None


def hook() -> Any:
    """Shortcut for ``get_plugin_manager().hook``."""
    return get_plugin_manager().hook


def describe_plugins() -> list[dict[str, Any]]:
    """Name, version, module and implemented hooks of every loaded plugin."""
    pm = get_plugin_manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: str(item[0])):
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append(
            {
                "name": name,
                "version": dist.version if dist is not None else _core_version(),
                "distribution": dist.project_name if dist is not None else "modeldeck",
                "module": getattr(plugin, "__name__", repr(plugin)),
                "hooks": hooks,
            }
        )
    return out


def _core_version() -> str:
    from modeldeck import __version__

    return __version__


def call_each(name: str, **kwargs: Any) -> list[Any]:
    """Call every implementation of a notification hook in isolation, in pluggy's order.

    A failing implementation is logged with its plugin's name; the ones after it still run.
    Returns the non-None results.
    """
    pm = get_plugin_manager()
    caller = getattr(pm.hook, name)
    results = []
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception:
            log.exception("plugin %s failed in hook %s", impl.plugin_name, name)
            continue
        if result is not None:
            results.append(result)
    return results
