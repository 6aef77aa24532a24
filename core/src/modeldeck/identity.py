"""Principals, roles and the Model Studio permission checks, with Model Studio's exact texts."""

from __future__ import annotations

import getpass
import os

from modeldeck.domain import Actor, Surface
from modeldeck.errors import NotLinked, PermissionDenied
from modeldeck.settings import PrincipalSettings, Settings

ALL_ROLES = ["viewer", "deployer", "approver", "admin"]
# Which roles may do what; admin may do everything.
CAPABILITIES = {
    "read": {"viewer", "deployer", "approver", "admin"},
    "request": {"deployer", "admin"},
    "decide": {"approver", "admin"},
    "configure": {"admin"},
}


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


def require(actor: Actor, capability: str) -> None:
    """Refuse unless one of the actor's roles grants `capability`."""
    allowed = CAPABILITIES[capability]
    if not allowed.intersection(actor.roles):
        need = " or ".join(sorted(allowed))
        raise PermissionDenied(
            f"{actor.principal} may not {capability} (roles: {', '.join(actor.roles) or 'none'}).",
            hint=f"This needs the role {need}; an admin can grant it in modeldeck.toml.",
        )


def require_approver_role(actor: Actor, role: str, request_id: str) -> None:
    """The policy may name the group that decides (`approver_role`); admins always may."""
    if role in actor.roles or "admin" in actor.roles:
        return
    raise PermissionDenied(
        f"{request_id} must be decided by someone with the role {role}; {actor.principal} has "
        f"{', '.join(actor.roles) or 'no role'}.",
        hint=f"Ask a member of {role} (or an admin) to decide it.",
    )


def check_module_access(settings: Settings, actor: Actor) -> None:
    """Model Studio's workspace permission ModelDeploy-FullAccess, with its console text."""
    members = settings.workspace.full_access
    if members is not None and actor.principal not in members:
        raise PermissionDenied(
            "Missing permissions for this module",
            hint=f"{actor.principal} needs ModelDeploy-FullAccess in workspace "
            f"{settings.workspace.id} (workspace.full_access in modeldeck.toml).",
        )


def check_model_privilege(settings: Settings, model: str) -> None:
    """The workspace's per-model deployment privilege, with Model Studio's exact text."""
    allowed = settings.workspace.deployable_models
    if allowed is not None and model.lower() not in {m.lower() for m in allowed}:
        raise PermissionDenied(
            f"Workspace {settings.workspace.id} does not have deployment privilege for model "
            f"{model}."
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
