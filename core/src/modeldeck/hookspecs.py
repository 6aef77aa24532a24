"""Hook specifications: the extension points modeldeck plugins implement.

Written in the style of pytest's ``hookspec.py``: each spec says when it is called, its parameters
and what it returns. Hooks marked ``firstresult`` stop at the first non-None result; plugins
registered later are called first, and the built-in defaults are ``trylast`` so any plugin can
override them. ``register_*`` hooks receive a ``register`` callable; validation and duplicate
detection happen in one place, :mod:`modeldeck.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from modeldeck.settings import Settings

hookspec = pluggy.HookspecMarker("modeldeck")
hookimpl = pluggy.HookimplMarker("modeldeck")


@hookspec
def register_providers(register: Callable[..., None]) -> None:
    """Register Model Studio provider factories.

    :param register: call ``register(name, factory)`` where ``factory(settings: Settings)``
        returns an object implementing :class:`modeldeck.provider.base.Provider`. ``name`` is
        what ``MODELDECK_PROVIDER__KIND`` selects; registering a name twice is an error.
    :return: nothing; registration happens through ``register``.
    """


@hookspec
def register_routes(register: Callable[..., None], deck: Any, settings: Settings) -> None:
    """Mount HTTP routes on the modeldeck server.

    Called once when the server app is built.

    :param register: call ``register(path, app, name=...)`` to mount an ASGI app (or a
        Starlette/FastAPI router) under ``path``. Two plugins mounting the same path is an error.
    :param deck: the in-process :class:`modeldeck.deck.Deck` the server runs.
    :param settings: the effective :class:`modeldeck.settings.Settings`.
    :return: nothing.
    """


@hookspec
def register_catalogs(register: Callable[..., None]) -> None:
    """Add price catalog entries.

    :param register: call ``register(entries, source=...)`` with a list of catalog entries
        (see :mod:`modeldeck.catalog`). An entry whose key (model, mode, plan, price, tier)
        is already registered with a different amount is a conflict and fails loudly.
    :return: nothing.
    """


@hookspec(firstresult=True)
def evaluate_policy(request: Any, estimate: Any, settings: Settings) -> Any | None:
    """Decide how a request is approved.

    ``firstresult``: the first plugin returning a non-None decision wins; the built-in
    threshold policy (``trylast``) applies when no plugin decides.

    :param request: the :class:`modeldeck.domain.RequestRecord` being created.
    :param estimate: its :class:`modeldeck.domain.Estimate` (or None for free actions).
    :param settings: the effective settings (``[policy]``).
    :return: a :class:`modeldeck.domain.PolicyDecision`, or None to defer to the next plugin.
    """


@hookspec
def request_created(request: Any, deck: Any) -> None:
    """Called after a request was stored (deploy, scale, unpublish...).

    :param request: the stored :class:`modeldeck.domain.RequestRecord`.
    :param deck: the :class:`modeldeck.deck.Deck` that stored it.
    :return: nothing; exceptions are logged and do not undo the request.
    """


@hookspec
def request_decided(request: Any, deck: Any) -> None:
    """Called after a request was approved, rejected, executed, failed or expired.

    :param request: the :class:`modeldeck.domain.RequestRecord` in its new state.
    :param deck: the :class:`modeldeck.deck.Deck`.
    :return: nothing; exceptions are logged.
    """


@hookspec
def deployment_status_changed(
    deployment: Any, old_status: str | None, new_status: str, deck: Any
) -> None:
    """Called exactly once per observed status change of a deployment.

    :param deployment: the :class:`modeldeck.domain.DeploymentRecord` after the change.
    :param old_status: the previous status, or None when the deployment was first seen.
    :param new_status: the new status (may be one modeldeck does not know).
    :param deck: the :class:`modeldeck.deck.Deck`.
    :return: nothing; exceptions are logged.
    """


@hookspec
def upfront_timeline(deployment: Any, order: dict[str, Any], event: str, deck: Any) -> None:
    """Called exactly once per event in an upfront order's timeline (Beijing rules).

    :param deployment: the :class:`modeldeck.domain.DeploymentRecord` the order pays for.
    :param order: the order as a dict (id, kind, quantity, amount, currency, ordered_at,
        expires_at, stops_at, released_at).
    :param event: one of ``"expires_in_24h"``, ``"expires_in_2h"``, ``"stopped"``, ``"released"``.
    :param deck: the :class:`modeldeck.deck.Deck` whose reconciler noticed it.
    :return: nothing; exceptions are logged.
    """


@hookspec
def startup(deck: Any, settings: Settings) -> list[Any] | None:
    """Called when ``modeldeck up`` or ``modeldeck server`` starts.

    :param deck: the in-process deck.
    :param settings: the effective settings.
    :return: optionally a list of awaitables to run alongside the server (e.g. Slack Socket Mode).
    """
