"""Hook specifications: the extension points modeldeck plugins implement.

Written in the style of pytest's ``hookspec.py``: each spec says when it is called, its parameters
and what it returns. Hooks marked ``firstresult`` stop at the first non-None result; plugins
registered later are called first, and the built-in defaults are ``trylast`` so any plugin can
override them. ``register_*`` hooks receive a ``register`` callable; validation and duplicate
detection happen in one place, :mod:`modeldeck.registry`. Notification hooks (``track_event`` and
the older ``request_created`` ... ``upfront_timeline``) are called one implementation at a time:
one that raises is logged and never hides the event from the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from modeldeck.deck import Deck
    from modeldeck.domain import (
        Actor,
        DeploymentRecord,
        Estimate,
        PolicyDecision,
        RequestRecord,
        Surface,
    )
    from modeldeck.events import Event
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
def register_routes(register: Callable[..., None], deck: Deck, settings: Settings) -> None:
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


@hookspec
def register_events(register: Callable[[type[Event]], None]) -> None:
    """Declare event classes (subclasses of :class:`modeldeck.events.Event`).

    The core declares its own through a default plugin; a plugin that emits events of its own
    declares them here so ``modeldeck.events.event_types()`` knows every name.

    :param register: call ``register(EventClass)``; two classes with one ``name`` is an error.
    :return: nothing.
    """


@hookspec(firstresult=True)
def evaluate_policy(
    request: RequestRecord, estimate: Estimate | None, settings: Settings
) -> PolicyDecision | None:
    """Decide how a request is approved.

    ``firstresult``: the first plugin returning a non-None decision wins; the built-in
    threshold policy (``trylast``) applies when no plugin decides.

    :param request: the :class:`modeldeck.domain.RequestRecord` being created.
    :param estimate: its :class:`modeldeck.domain.Estimate` (or None for free actions).
    :param settings: the effective settings (``[policy]``).
    :return: a :class:`modeldeck.domain.PolicyDecision`, or None to defer to the next plugin.
    """


@hookspec(firstresult=True)
def actor_from_identity(surface: Surface, external_id: str, settings: Settings) -> Actor | None:
    """Map a surface's user to an actor (SSO, a directory, another identity source).

    ``firstresult``: the first non-None actor wins; the built-in ``[[principals]]`` lookup
    (``trylast``) applies when no plugin answers. Raise ``modeldeck.errors.NotLinked`` to refuse.

    :param surface: where the user acts (``slack``, ``jupyter``, ``cli``, ``api``).
    :param external_id: the surface's id of the user (Slack user id, notebook user name...).
    :param settings: the effective settings (``[[principals]]``).
    :return: a :class:`modeldeck.domain.Actor`, or None to defer to the next plugin.
    """


@hookspec
def track_event(event: Event, deck: Deck) -> None:
    """Called once for every event, after the change it reports was committed.

    Events are typed pydantic models (:mod:`modeldeck.events`): requests created and decided,
    executions started, succeeded, failed and recovered, status changes, drift, imports, order
    timelines, configuration and token changes. Audit is the first subscriber (it records the event
    in the same transaction as the change); notification channels subscribe here.

    :param event: the :class:`modeldeck.events.Event` (``event.name`` says which kind).
    :param deck: the in-process :class:`modeldeck.deck.Deck` that emitted it.
    :return: nothing; exceptions are logged and never stop the other plugins.
    """


@hookspec
def request_created(request: RequestRecord, deck: Deck) -> None:
    """Called after a request was stored (deploy, scale, unpublish...).

    :param request: the stored :class:`modeldeck.domain.RequestRecord`.
    :param deck: the :class:`modeldeck.deck.Deck` that stored it.
    :return: nothing; exceptions are logged and do not undo the request.
    """


@hookspec
def request_decided(request: RequestRecord, deck: Deck) -> None:
    """Called after a request was approved, rejected, executed, failed or expired.

    :param request: the :class:`modeldeck.domain.RequestRecord` in its new state.
    :param deck: the :class:`modeldeck.deck.Deck`.
    :return: nothing; exceptions are logged.
    """


@hookspec
def deployment_status_changed(
    deployment: DeploymentRecord, old_status: str | None, new_status: str, deck: Deck
) -> None:
    """Called exactly once per observed status change of a deployment.

    :param deployment: the :class:`modeldeck.domain.DeploymentRecord` after the change.
    :param old_status: the previous status, or None when the deployment was first seen.
    :param new_status: the new status (may be one modeldeck does not know).
    :param deck: the :class:`modeldeck.deck.Deck`.
    :return: nothing; exceptions are logged.
    """


@hookspec
def upfront_timeline(
    deployment: DeploymentRecord, order: dict[str, Any], event: str, deck: Deck
) -> None:
    """Called exactly once per event in an upfront order's timeline (Beijing rules).

    :param deployment: the :class:`modeldeck.domain.DeploymentRecord` the order pays for.
    :param order: the order as a dict (id, kind, quantity, amount, currency, ordered_at,
        expires_at, stops_at, released_at).
    :param event: one of ``"expires_in_24h"``, ``"expires_in_2h"``, ``"stopped"``, ``"released"``,
        ``"auto_renewed"``.
    :param deck: the :class:`modeldeck.deck.Deck` whose reconciler noticed it.
    :return: nothing; exceptions are logged.
    """


@hookspec
def startup(deck: Deck, settings: Settings) -> list[Awaitable[Any]] | None:
    """Called when ``modeldeck up`` or ``modeldeck server`` starts.

    :param deck: the in-process deck.
    :param settings: the effective settings.
    :return: optionally a list of awaitables to run alongside the server (e.g. Slack Socket Mode).
    """


# --- grammar, results and rendering: verbs, renderers and CLI commands plugins add -------------


@hookspec
def register_verbs(register: Callable[..., None]) -> None:
    """Add verbs to the command grammar (CLI, Slack, notebook and the REST API all get them).

    Called once per process, the first time a command is parsed or validated.

    :param register: call ``register(name, model, handler, *, usage=..., description=...,
        examples=(...), positional=(...), keys=(...))``. ``model`` is a
        :class:`modeldeck.grammar.CommandModel` subclass with ``verb: Literal[name]`` and
        ``keys`` (the key=value options it takes); ``positional`` names the fields its plain
        words fill, in order; ``keys`` describes (as :class:`modeldeck.grammar.KeyInfo`) any key
        the grammar does not know yet. ``handler(deck, command, actor)`` runs the verb and returns
        a :class:`modeldeck.results.Result` subclass. A name already taken is an error.
    :return: nothing; registration happens through ``register``.
    """


@hookspec
def register_renderers(register: Callable[..., None]) -> None:
    """Add renderers for result types on a surface (``text``, ``cli``, ``slack``, ``html``...).

    Called once per process, the first time a result is rendered.

    :param register: call ``register(result_type, surface, renderer)``; ``renderer(result,
        **context)`` returns what the surface shows (``str`` for ``text``/``html``, a rich
        renderable for ``cli``, a Slack card for ``slack``). The renderer of the nearest base
        class is used when a type has none; two plugins registering the same (type, surface) is
        an error.
    :return: nothing.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``modeldeck`` CLI (like llm's and datasette's ``register_commands``).

    Called once when the CLI starts, after the grammar's verbs are added.

    :param cli: the root :class:`click.Group`; decorate functions with ``@cli.command()``.
    :return: nothing.
    """
