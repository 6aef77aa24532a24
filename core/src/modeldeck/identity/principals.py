"""Who acts: surface users mapped to configured principals (or to a plugin's identity source)."""

from __future__ import annotations

import getpass
import os

from modeldeck import plugins
from modeldeck.domain import Actor, Surface
from modeldeck.errors import ConfigError, NotLinked
from modeldeck.identity.permissions import ALL_ROLES
from modeldeck.settings import PrincipalSettings, Settings


def local_user() -> str:
    """The notebook/CLI user: JUPYTERHUB_USER, MODELDECK_USER, or the OS user."""
    return (
        os.environ.get("JUPYTERHUB_USER")
        or os.environ.get("MODELDECK_USER")
        or getpass.getuser()
        or "unknown"
    )


def _matches(principal: PrincipalSettings, surface: Surface, external_id: str) -> bool:
    if surface == "slack":
        return principal.slack_user == external_id
    if surface in ("jupyter", "cli"):
        return external_id in (principal.jupyter_user, principal.name)
    return principal.name == external_id


def resolve_actor(settings: Settings, surface: Surface, external_id: str) -> Actor:
    """The actor for a surface's user: the first ``actor_from_identity`` plugin that answers.

    The built-in answer (a ``trylast`` default plugin) is :func:`principal_actor`.
    """
    actor = plugins.hook().actor_from_identity(
        surface=surface, external_id=external_id, settings=settings
    )
    if actor is None:  # every plugin deferred, the default included (it never does)
        return principal_actor(settings, surface, external_id)
    if not isinstance(actor, Actor):
        raise ConfigError(
            f"An actor_from_identity plugin returned {type(actor).__name__}, not an Actor."
        )
    return actor


def principal_actor(settings: Settings, surface: Surface, external_id: str) -> Actor:
    """Map a surface's user id to a configured principal.

    With no ``[[principals]]`` configured modeldeck runs open (single-user and demos): every
    user is a principal named ``<surface>:<id>`` with every role. Once principals are configured,
    an unknown user is refused, never given a default role.
    """
    if not settings.principals:
        name = external_id if surface in ("cli", "jupyter", "api") else f"{surface}:{external_id}"
        return Actor(
            principal=name, surface=surface, roles=list(ALL_ROLES), external_id=external_id
        )
    for principal in settings.principals:
        if _matches(principal, surface, external_id):
            return Actor(
                principal=principal.name,
                surface=surface,
                roles=list(principal.roles),
                external_id=external_id,
            )
    where = {"slack": "slack_user", "jupyter": "jupyter_user", "cli": "jupyter_user"}.get(
        surface, "name"
    )
    raise NotLinked(
        f"Your {surface} user {external_id!r} is not linked to a modeldeck principal.",
        hint=f'Ask an admin to add `{where} = "{external_id}"` to your [[principals]] entry '
        "in modeldeck.toml.",
    )


def actor_for_principal(settings: Settings, name: str, surface: Surface) -> Actor:
    """The actor for a principal name (from an API token); open mode grants every role."""
    if not settings.principals:
        return Actor(principal=name, surface=surface, roles=list(ALL_ROLES), external_id=name)
    for principal in settings.principals:
        if principal.name == name:
            return Actor(
                principal=name, surface=surface, roles=list(principal.roles), external_id=name
            )
    raise NotLinked(
        f"The token belongs to {name!r}, who is no longer a configured principal.",
        hint="Add them back to [[principals]] in modeldeck.toml or revoke the token.",
    )
